"""What every figure shares: atomic PNG and PDF output, the provenance line and the language blocks of a map.

Figures are built on :class:`matplotlib.figure.Figure` directly (no pyplot state, no display needed).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from linguafranca.io.atomic import atomic_path

if TYPE_CHECKING:
    pass


def save_figure(fig: Figure, png: str | os.PathLike, pdf: str | os.PathLike) -> None:
    """Write ``fig`` to both paths; the temporary names have no suffix, so the format is given explicitly."""
    for path, fmt in ((png, "png"), (pdf, "pdf")):
        with atomic_path(path) as temporary:
            fig.savefig(temporary, format=fmt, dpi=150, bbox_inches="tight")


def provenance_line(attrs: dict) -> str:
    """``model @ revision, dataset`` from whichever of those the file records."""
    model = str(attrs.get("model", ""))
    revision = f" @ {attrs['revision']}" if "revision" in attrs else ""
    dataset = f", {attrs['dataset']}" if "dataset" in attrs else ""
    return f"{model}{revision}{dataset}".strip(", ")


def language_blocks(langs: np.ndarray) -> list[tuple[str, int, int]]:
    """``(language, first row, end row)`` of each run of equal labels in ``langs`` (``[N]``)."""
    starts = [0, *np.flatnonzero(langs[1:] != langs[:-1]) + 1]
    ends = [*starts[1:], len(langs)]
    return [(str(langs[s]), s, e) for s, e in zip(starts, ends)]
