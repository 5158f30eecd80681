"""The model wing: resolving and loading models, the architecture table, hooks on the MLP neurons, tokenisation and
the BOS policy, output-head log-probabilities and batching. Shared by every stage; imports no stage.

No re-exports: the code hash of a script follows its imports (docs/architecture.md)."""
