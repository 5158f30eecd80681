"""The deactivation stage: conditions, perplexity with a region off, Table 1 and its ratios, and generation.
Imports only the shared wings.

No re-exports: the code hash of a script follows its imports (docs/architecture.md)."""
