"""The probes stage: token samples and responses, language-ID probes, concept neurons, their intervention and the
summary table. Imports only the shared wings.

No re-exports: the code hash of a script follows its imports (docs/architecture.md)."""
