"""Where the tests find the repository and the shared test data."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def shared_data() -> Path:
    """The shared test data folder: $LINGUAFRANCA_SHARED_DATA, by default ``shared/data`` beside the repository."""
    return Path(os.environ.get("LINGUAFRANCA_SHARED_DATA", REPO.parent / "shared" / "data"))
