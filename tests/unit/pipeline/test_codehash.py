"""The code hash of a workflow script covers exactly the package modules that running the script imports."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from linguafranca.pipeline.codehash import NO_RESULT_MODULES, PACKAGE_ROOT, code_hash, script_modules
from tests.helpers.paths import REPO

SCRIPTS = sorted((REPO / "workflow" / "scripts").glob("*.py"))

# Runs each script's import statements in one fresh interpreter, forgetting the package between scripts, and
# prints the package modules Python really loaded: the reference the ast walk must reproduce.
RUNTIME_IMPORTS = """
import ast, json, sys
found = {}
for script in sys.argv[1:]:
    for name in [m for m in sys.modules if m == "linguafranca" or m.startswith("linguafranca.")]:
        del sys.modules[name]
    tree = ast.parse(open(script, encoding="utf-8").read())
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    exec(compile(ast.Module(body=imports, type_ignores=[]), script, "exec"), {})
    found[script] = sorted(m for m in sys.modules if m == "linguafranca" or m.startswith("linguafranca."))
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def runtime_modules() -> dict[str, set[str]]:
    """Script name -> the package modules that importing the script's imports loads, measured in a subprocess."""
    run = subprocess.run(
        [sys.executable, "-c", RUNTIME_IMPORTS, *map(str, SCRIPTS)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(PACKAGE_ROOT.parent)},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return {Path(script).name: set(modules) for script, modules in json.loads(run.stdout).items()}


def test_every_script_has_the_modules_python_imports(runtime_modules):
    assert set(runtime_modules) == {script.name for script in SCRIPTS}
    for script in SCRIPTS:
        assert script_modules(script) == runtime_modules[script.name], script.name


def test_figures_do_not_depend_on_capture_or_on_type_checking_imports(runtime_modules):
    figure = script_modules(REPO / "workflow/scripts/figure.py")
    assert "linguafranca.figures.analysis" in figure and "linguafranca.io.regions_store" in figure
    # plots.py imports ablation only under TYPE_CHECKING, which never runs
    assert "linguafranca.ablation" not in figure and "linguafranca.analysis.capture" not in figure


def test_an_edit_changes_the_hash_of_exactly_the_scripts_that_import_the_module(tmp_path, runtime_modules):
    root = tmp_path / "linguafranca"
    shutil.copytree(PACKAGE_ROOT, root, ignore=shutil.ignore_patterns("__pycache__"))
    before = {script.name: code_hash(script, root) for script in SCRIPTS}
    assert before == {script.name: code_hash(script) for script in SCRIPTS}  # a copy hashes the same
    modules = sorted(root.rglob("*.py"))
    assert len(modules) > 20
    for path in modules:
        original = path.read_text(encoding="utf-8")
        path.write_text(original + "\n# edited\n", encoding="utf-8")
        parts = path.relative_to(tmp_path).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        changed = {name for name in before if code_hash(REPO / "workflow/scripts" / name, root) != before[name]}
        expected = set() if module in NO_RESULT_MODULES else {n for n, m in runtime_modules.items() if module in m}
        assert changed == expected, module
        path.write_text(original, encoding="utf-8")


def test_each_wing_module_reaches_only_the_scripts_that_use_it(runtime_modules):
    modules = ("linguafranca.analysis.capture", "linguafranca.model.batching", "linguafranca.figures.analysis",
               "linguafranca.figures.style", "linguafranca.pipeline.joblog")
    importers = {
        module: {name for name, modules in runtime_modules.items() if module in modules} for module in modules
    }
    assert importers["linguafranca.analysis.capture"] == {"capture.py"}
    assert importers["linguafranca.model.batching"] == {"capture.py", "probe_capture.py"}  # the probes batch alike
    assert importers["linguafranca.figures.analysis"] == {"figure.py"}
    assert importers["linguafranca.figures.style"] == {"figure.py", "ablation_tables.py", "methods_table.py",
                                                      "reasoning_table.py", "probes.py", "series.py"}
    assert importers["linguafranca.pipeline.joblog"] == {script.name for script in SCRIPTS}  # yet it is never hashed


def test_follows_relative_lazy_and_parent_imports_but_not_type_checking(tmp_path):
    root = tmp_path / "linguafranca"
    files = {
        "__init__.py": "",
        "a.py": "from .b import thing\nif TYPE_CHECKING:\n    from .c import X\nelse:\n    from . import d\n",
        "b.py": "def thing():\n    from .sub.deep import f\n    return f\nthing = 1\n",
        "c.py": "",
        "d.py": "",
        "unused.py": "",
        "sub/__init__.py": "from ..e import y\n",
        "sub/deep.py": "import os\nimport linguafranca.f\n",
        "e.py": "",
        "f.py": "",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        import numpy
        from linguafranca.a import thing
        from . import unused
    """))
    expected = {"linguafranca", *(f"linguafranca.{m}" for m in ("a", "b", "d", "sub", "sub.deep", "e", "f"))}
    assert script_modules(script, root) == expected
    digest = code_hash(script, root)
    (root / "unused.py").write_text("x = 1\n")
    assert code_hash(script, root) == digest
    (root / "sub/__init__.py").write_text("from ..e import y  # edited\n")
    assert code_hash(script, root) != digest
