"""Where a local model's files are: its folder for each revision. Torch-free."""

from __future__ import annotations

from pathlib import Path


def local_folder(name: str, revision: str) -> Path:
    """A local model's folder: its ``name`` with ``{revision}`` filled in (one folder per checkpoint)."""
    return Path(name.format(revision=revision)).expanduser()
