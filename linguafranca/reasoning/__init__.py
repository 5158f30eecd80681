"""The cross-lingual reasoning stage: task items, lm-eval evaluation, the fast model, accuracy tables and the lm-eval
task configs (``tasks/``). Imports only the shared wings.

No re-exports: the code hash of a script follows its imports (docs/architecture.md)."""
