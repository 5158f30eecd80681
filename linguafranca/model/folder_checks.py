"""What ``resolve_model`` checks of a model folder before any job loads it.

A broken folder used to pass resolution and fail later, in capture, with a library's traceback: a truncated
``model.safetensors`` (``SafetensorError``), no tokenizer files (transformers' ``ValueError``), a tokenizer larger
than the model's vocabulary (an ``IndexError`` deep in the embedding). Each is found here, in the resolve job, with
one line that names the folder and the fix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from linguafranca.errors import LinguaFrancaError

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt")
"""Weight files that ``torch.load`` unpickles: loading one can run code that it carries."""


def check_weights(folder: Path, label: str, allow_pickle: bool) -> None:
    """Safetensors weights must be whole; a folder with only pickled weights needs ``allow_pickle: true``."""
    safetensors = sorted(folder.glob("*.safetensors"))
    pickles = sorted(path.name for path in folder.iterdir() if path.suffix in PICKLE_SUFFIXES)
    if not safetensors and pickles and not allow_pickle:
        raise LinguaFrancaError(
            f"{label}: {folder} holds only pickled weights ({', '.join(pickles)}), which can run code when loaded; "
            "convert them to safetensors, or set allow_pickle: true for this model if you trust them"
        )
    for path in safetensors:
        check_safetensors_complete(path, label)


def check_safetensors_complete(path: Path, label: str) -> None:
    """The file holds every byte its header promises: an 8-byte little-endian header length, the JSON header, then
    the tensors, the last of which ends at the largest ``data_offsets`` end. Reads the header only."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        prefix = handle.read(8)
        length = int.from_bytes(prefix, "little") if len(prefix) == 8 else None
        try:
            if length is None or 8 + length > size:
                raise ValueError("the header is cut off")
            header = json.loads(handle.read(length))
            end = max((int(t["data_offsets"][1]) for k, t in header.items() if k != "__metadata__"), default=0)
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as error:
            raise LinguaFrancaError(
                f"{label}: {path} is not a whole safetensors file ({error}); copy or download it again"
            ) from None
    held = size - 8 - length
    if end > held:
        raise LinguaFrancaError(
            f"{label}: {path} is truncated: its header promises {end:,} bytes of tensors and the file holds "
            f"{held:,}; copy or download it again"
        )


def check_tokenizer(folder: Path, label: str, trust_remote_code: bool) -> None:
    """The folder's tokenizer loads, and none of its ids is beyond the model's embedding (``vocab_size``)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=trust_remote_code)
    except Exception as error:  # transformers raises OSError, ValueError, TypeError... for a folder it cannot read
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise LinguaFrancaError(
            f"{label}: cannot load a tokenizer from {folder} ({reason[:200]}); the folder needs the files "
            "save_pretrained writes for it (tokenizer_config.json with tokenizer.json or tokenizer.model)"
        ) from None
    vocab = vocab_size(folder)
    if vocab is not None and len(tokenizer) > vocab:
        raise LinguaFrancaError(
            f"{label}: the tokenizer in {folder} has {len(tokenizer):,} tokens but the model's embedding has "
            f"{vocab:,} rows (config.json vocab_size), so ids {vocab:,} and above index nothing; use the tokenizer "
            "the model was trained with"
        )


def vocab_size(folder: Path) -> int | None:
    """The rows of the model's input embedding, from config.json (``text_config`` for multimodal configs)."""
    config: Any = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    for scope in (config, config.get("text_config") or {}):
        if isinstance(scope.get("vocab_size"), int):
            return scope["vocab_size"]
    return None
