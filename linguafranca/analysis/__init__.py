"""The analysis stage: mean activations (capture), similarity, LRDS and SADS, key linguistic regions and their
permutation null. Imports only the shared wings.

No re-exports: the code hash of a script follows its imports (docs/architecture.md)."""
