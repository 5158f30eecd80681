"""Config files read as strictly as the schema reads their values.

YAML lets a mapping repeat a key and keeps the last value, so a second ``regions:`` block silently replaces the
first and its other settings fall back to the defaults. Snakemake loads config files that way; the workflow
rereads each one here first and stops on a repeated key.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml

from linguafranca.errors import LinguaFrancaError


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key written twice within one mapping (keys merged with ``<<:`` may be
    overridden, as YAML intends)."""

    def construct_mapping(self, node, deep=False):
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults` merges keys that explicit ones may override: that is meant
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise LinguaFrancaError(
                    f"config error in {Path(self.name)} line {line}: key {key!r} appears twice in one mapping (first "
                    f"on line {seen[key]}), and YAML would keep only the last: merge the two into one"
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def check_unique_keys(paths: Iterable[str | Path]) -> None:
    """Raise :class:`LinguaFrancaError` naming the file and line of the first repeated key in any of ``paths``."""
    for path in paths:
        with open(path, encoding="utf-8") as stream:
            yaml.load(stream, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
