"""The dataset builders that the task YAML names (``custom_dataset: !function utils.…``).

lm-eval calls them with the task's metadata (from ``TaskManager(metadata=...)``: see
:func:`linguafranca.reasoning.evaluation.task_metadata`) and its ``dataset_kwargs`` (the language), plus keys of its own,
which they ignore.
"""

import datasets

from linguafranca.reasoning.items import bible_items, story_items


def bible_dataset(lang, books, context_verses, seed, bible_db=None, **_):
    """``bible_xling_next_{lang}``'s items as a one-split DatasetDict (``test``)."""
    items = bible_items(lang, books, context_verses, seed, bible_db)
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(items)})


def story_dataset(lang, xstorycloze_path=None, **_):
    """``xstorycloze_xling_{lang}``'s items as a one-split DatasetDict (``test``)."""
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(story_items(lang, xstorycloze_path))})
