"""Where the workflow writes: every path pattern, once. Rule files and the package take them from here.

Patterns hold Snakemake wildcards (``{model}``, ``{revision}``, ...); docs/outputs.md describes each file.
"""

# The pretraining sandbox: the tokenizer, each size's checkpoints (model folders) and training log.
TOKENIZER = "resources/sandbox/tokenizer"
CHECKPOINT = "resources/sandbox/{size}/checkpoints/{revision}"


LOSS = "resources/sandbox/{size}/loss.tsv"
"""Where the sandbox's jobs write: the tokenizer, each size's checkpoints (model folders) and training log."""
