import os
from pathlib import Path

import pytest
import torch

from tests.helpers.paths import shared_data

torch.set_num_threads(1)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


@pytest.fixture
def ntrex_dir() -> Path:
    folder = shared_data() / "ntrex"
    if not folder.is_dir():
        pytest.skip(f"NTREX-128 not found at {folder}: set LINGUAFRANCA_SHARED_DATA to the shared data folder")
    return folder
