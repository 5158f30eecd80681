"""Figures: one module per stage, one shared style. Sits above the stages and series.

No re-exports: the code hash of a script follows its imports (docs/architecture.md)."""
