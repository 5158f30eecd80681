"""lm-eval task configs of the reasoning stage (package data), registered with ``TaskManager(include_path=TASKS_DIR)``.

``_bible_xling_next.yaml`` and ``_xstorycloze_xling.yaml`` are templates (no ``task`` key, so lm-eval indexes them
as no task); each ``{task}_{lang}.yaml`` includes one and sets its language. ``utils.py`` builds the items from
:mod:`linguafranca.reasoning`, with the settings lm-eval hands over as task metadata.
"""

import hashlib
from pathlib import Path

TASKS_DIR = Path(__file__).parent


def files_hash() -> str:
    """sha256 of the task YAML and ``utils.py``: lm-eval reads them as files, not as imports, so the code hash of a
    script (:mod:`linguafranca.pipeline.codehash`) does not see them; the reasoning rule adds this to its params, and an
    edited prompt reruns the reasoning jobs."""
    digest = hashlib.sha256()
    for path in sorted([*TASKS_DIR.glob("*.yaml"), TASKS_DIR / "utils.py"]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
