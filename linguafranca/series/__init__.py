"""Series: each point's outputs gathered across checkpoints and sizes into evolution tables. Sits above the stages.

No re-exports: the code hash of a script follows its imports (docs/architecture.md)."""
