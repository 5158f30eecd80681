import os
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
torch.set_num_threads(1)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]


def shared_data() -> Path:
    """The shared test data folder (``../shared/data`` beside the repository, or $LINGUAFRANCA_SHARED_DATA)."""
    return Path(os.environ.get("LINGUAFRANCA_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def ntrex_dir() -> Path:
    folder = shared_data() / "ntrex"
    if not folder.is_dir():
        pytest.skip(f"NTREX-128 not found at {folder}: these tests need ../shared/data beside the repository")
    return folder
