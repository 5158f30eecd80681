"""Evaluation through lm-eval: the task metadata our task YAML reads, one ``simple_evaluate`` per condition, and the
results JSON with lm-eval's environment record.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any
from unittest import mock

from linguafranca.reasoning.items import available, task_name
from linguafranca.reasoning.tasks import TASKS_DIR


def task_metadata(settings: Mapping[str, Any]) -> dict[str, Any]:
    """What the task YAML's dataset builders read (lm-eval passes TaskManager metadata to ``custom_dataset``), from
    the settings of the task families present: a job's settings hold its own family's only, so that a change to one
    family's settings reruns that family's jobs alone."""
    metadata: dict[str, Any] = {}
    if "bible" in settings:
        bible = settings["bible"]
        metadata.update(books=list(bible["books"]), context_verses=int(bible["context_verses"]),
                        seed=int(bible["seed"]), bible_db=bible.get("db"))
    if "xstorycloze" in settings:
        metadata["xstorycloze_path"] = settings["xstorycloze"]["path"]
    return metadata


def evaluate(lm, family: str, langs: Sequence[str], settings: Mapping[str, Any]) -> dict[str, Any]:
    """lm-eval's results (with per-item samples) for ``family`` on the available ``langs`` with model ``lm``."""
    import lm_eval.evaluator
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    names = [task_name(family, lang) for lang in langs if available(family, lang)]
    if not names:
        return {"results": {}, "n-samples": {}, "samples": {}}
    manager = TaskManager(include_path=str(TASKS_DIR), include_defaults=False, metadata=task_metadata(settings))
    with mock.patch.object(lm_eval.evaluator, "add_env_info", _add_env_info_once):
        results = simple_evaluate(model=lm, tasks=names, task_manager=manager, limit=settings["limit"],
                                  log_samples=True, bootstrap_iters=0, random_seed=0, numpy_random_seed=0,
                                  torch_random_seed=0, fewshot_random_seed=0)
    return results


@functools.lru_cache(maxsize=1)
def _env_info() -> dict[str, Any]:
    from lm_eval.loggers.utils import add_env_info

    storage: dict[str, Any] = {}
    add_env_info(storage)
    return storage


def _add_env_info_once(storage: dict[str, Any]) -> None:
    """lm-eval's environment record, gathered once per process: it runs half a second of subprocesses (torch's
    collect_env), more than a tiny model's whole evaluation, and a combined job evaluates 20 conditions."""
    storage.update(copy.deepcopy(_env_info()))


def write_results(path: str | os.PathLike, results: Mapping[str, Any], extra: Mapping[str, Any]) -> None:
    """lm-eval's results dict as JSON (lm-eval's own serialiser for what JSON lacks), with ``extra`` provenance."""
    from lm_eval.utils import handle_non_serializable

    from linguafranca.io.atomic import write_text

    keep = {key: results[key] for key in ("results", "n-samples", "samples", "configs", "versions") if key in results}
    write_text(path, json.dumps({**keep, "linguafranca": dict(extra)}, default=handle_non_serializable, indent=1))
