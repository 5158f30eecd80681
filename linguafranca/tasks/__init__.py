"""lm-eval task configs of the reasoning stage (package data), registered with ``TaskManager(include_path=TASKS_DIR)``.

``_bible_xling_next.yaml`` and ``_xstorycloze_xling.yaml`` are templates (no ``task`` key, so lm-eval indexes them
as no task); each ``{task}_{lang}.yaml`` includes one and sets its language. ``utils.py`` builds the items from
:mod:`linguafranca.reasoning`, with the settings lm-eval hands over as task metadata.
"""

from pathlib import Path

TASKS_DIR = Path(__file__).parent
