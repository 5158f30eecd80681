"""The hash of the package code a workflow script runs, so that editing a module reruns the jobs that use it.

Snakemake's code trigger sees only a rule's script file (its mtime), not the ``linguafranca`` modules the script
imports. Each rule therefore gets a param holding :func:`code_hash` of its script: the sha256 of every package
module the script imports, followed transitively through the modules' own imports. A param that changes reruns
the job, and the jobs after it follow from its new output.

The module set follows Python's import semantics, read with ``ast`` (nothing is imported):
- ``import linguafranca.x``, ``from linguafranca.x import y`` and relative imports inside the package count, at
  any depth of the file (a function's lazy import counts too); ``y`` counts when it is itself a module.
- Importing ``a.b.c`` runs ``a/__init__.py`` and ``a/b/__init__.py`` first, so those count with everything they
  import (so every module under ``data/`` counts for a script that reads JSON Lines through ``linguafranca.data``).
- Imports under ``if TYPE_CHECKING:`` never run, so they do not count.
Modules in :data:`NO_RESULT_MODULES` are followed but not hashed: they cannot change a number.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

PACKAGE = "linguafranca"
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
"""The folder of the package that is imported here, and so by the workflow's scripts in the same environment."""

NO_RESULT_MODULES = frozenset({"linguafranca.pipeline.joblog", "linguafranca.pipeline.threads"})
"""Modules whose edits change no result: ``joblog`` redirects a job's log and ``threads`` caps its threads (a thread
count changes floating-point rounding only, like ``batch_size``). Every script imports them; hashing them would rerun
the whole workflow after a change to logging."""


def module_file(module: str, root: Path = PACKAGE_ROOT) -> Path | None:
    """The source file of a package module (``linguafranca.data`` -> ``data/__init__.py``), None if none exists."""
    base = root.joinpath(*module.split(".")[1:])
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every Import/ImportFrom in ``node``, at any depth, except in the body of ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _import_nodes(ast.Module(body=[other], type_ignores=[]))
        else:
            yield from _import_nodes(child)


def _in_package(module: str) -> bool:
    return module == PACKAGE or module.startswith(PACKAGE + ".")


@lru_cache(maxsize=1024)
def imported_modules(source: str, module: str | None, root: Path = PACKAGE_ROOT) -> frozenset[str]:
    """The package modules that one file imports directly; ``module`` is the file's own module name (None for a
    script outside the package, whose relative imports cannot reach the package).

    Cached by the source text itself, so an edited file is parsed again and an unchanged one is not (a module file
    created or deleted later in the same process is not seen: the workflow hashes once, while it parses)."""
    own = module_file(module, root) if module is not None else None
    is_package = own is not None and own.name == "__init__.py"
    found: set[str] = set()
    for node in _import_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if _in_package(alias.name))
            continue
        if node.level:
            if module is None:
                continue
            parts = module.split(".") if is_package else module.split(".")[:-1]
            parts = parts[: len(parts) - (node.level - 1)]
            base = ".".join([*parts, *([node.module] if node.module else [])])
        else:
            base = node.module or ""
        if not _in_package(base):
            continue
        found.add(base)
        found.update(f"{base}.{alias.name}" for alias in node.names if module_file(f"{base}.{alias.name}", root))
    return frozenset(found)


def _with_parents(module: str) -> list[str]:
    """``a.b.c`` -> ``a``, ``a.b``, ``a.b.c``: importing a module runs every package ``__init__`` above it."""
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def script_modules(script: Path, root: Path = PACKAGE_ROOT) -> set[str]:
    """Every package module that running ``script`` imports, directly or through other package modules."""
    direct = imported_modules(Path(script).read_text(encoding="utf-8"), None, root)
    todo = [parent for name in direct for parent in _with_parents(name)]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        path = module_file(name, root)
        if name in seen or path is None:
            continue
        seen.add(name)
        for found in imported_modules(path.read_text(encoding="utf-8"), name, root):
            todo.extend(_with_parents(found))
    return seen


def code_hash(script: Path, root: Path = PACKAGE_ROOT) -> str:
    """sha256 over the package modules ``script`` runs (file names and contents, in sorted name order), leaving
    out :data:`NO_RESULT_MODULES`. Reads about 25 small files: fast enough to compute once per rule at parse time."""
    digest = hashlib.sha256()
    for name in sorted(script_modules(script, root) - NO_RESULT_MODULES):
        path = module_file(name, root)
        digest.update(f"{path.relative_to(root).as_posix()}\0".encode())
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()
