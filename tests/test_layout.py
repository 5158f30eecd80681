"""The project's structure as tests: the wings' layering, the docs site, the rule files' format, an installed
package that works without the source tree."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.paths import REPO

BIN = Path(sys.executable).parent


def run(*args: str, cwd: Path = REPO, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env)


def test_no_wing_imports_a_wing_above_it_or_a_sibling_stage():
    result = run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "1 kept, 0 broken" in result.stdout


def test_the_layering_contract_catches_a_stage_that_imports_another(tmp_path):
    """The contract is not vacuous: a copy of the package where a stage imports another stage breaks it."""
    shutil.copytree(REPO / "linguafranca", tmp_path / "linguafranca", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / ".importlinter", tmp_path / ".importlinter")
    with open(tmp_path / "linguafranca/ablation/generation.py", "a", encoding="utf-8") as module:
        module.write("\nfrom linguafranca.analysis.regions import zscores  # noqa\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = run(str(BIN / "lint-imports"), "--no-cache", cwd=tmp_path, env=env)
    assert result.returncode != 0 and "linguafranca.ablation.generation -> linguafranca.analysis.regions" in result.stdout


def test_every_init_is_free_of_imports():
    """No re-exports: a script's code hash follows its imports, so an __init__ that imported its wing would rerun
    every job of the wing after any edit inside it."""
    for init in (REPO / "linguafranca").rglob("__init__.py"):
        lines = init.read_text(encoding="utf-8").splitlines()
        assert not [line for line in lines if line.startswith(("import linguafranca", "from linguafranca", "from ."))], init


def test_docs_build_as_a_strict_site(tmp_path):
    result = run(str(BIN / "mkdocs"), "build", "--strict", "--site-dir", str(tmp_path / "site"),
                 env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site/architecture/index.html").is_file()


def test_a_broken_docs_link_fails_the_strict_build(tmp_path):
    docs = tmp_path / "repo"
    shutil.copytree(REPO / "docs", docs / "docs", symlinks=False)
    shutil.copy(REPO / "mkdocs.yml", docs / "mkdocs.yml")
    with open(docs / "docs/results.md", "a", encoding="utf-8") as page:
        page.write("\nSee [nothing](no-such-page.md).\n")
    result = run(str(BIN / "mkdocs"), "build", "--strict", cwd=docs, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode != 0 and "no-such-page.md" in result.stderr


def test_every_document_the_readme_indexes_exists_and_no_user_document_names_the_shared_folder():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    documents = [REPO / "README.md", REPO / "config/README.md", *(REPO / "docs").glob("*.md")]
    for page in (REPO / "docs").glob("*.md"):
        if page.name != "index.md" and not page.is_symlink():
            assert f"(docs/{page.name})" in readme, page.name
    for document in documents:
        assert "../shared" not in document.read_text(encoding="utf-8"), document


def test_rule_files_are_snakefmt_formatted():
    result = run(str(BIN / "snakefmt"), "--check", "workflow/rules", "Snakefile")
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.slow
def test_a_non_editable_install_validates_the_default_and_plans_its_jobs(tmp_path):
    """pip install . (a wheel, not the source tree) finds its schema as package data: the copied workflow, without
    linguafranca/ beside it, validates config/config.yaml and plans the default run."""
    source, site = tmp_path / "source", tmp_path / "site"
    source.mkdir()
    shutil.copytree(REPO / "linguafranca", source / "linguafranca", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)  # built from a copy: setuptools writes build/ beside the source
    install = run(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                  "--target", str(site), str(source))
    assert install.returncode == 0, install.stderr[-3000:]
    workflow = tmp_path / "workflow"
    workflow.mkdir()
    for name in ("Snakefile", "workflow", "config", "profiles"):
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        copy(REPO / name, workflow / name)
    (workflow / "config/schema.yaml").unlink()  # the link into the source tree: the package must not need it
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = run(sys.executable, "-c", "import linguafranca.pipeline.config as c; print(c.SCHEMA_PATH)", cwd=workflow,
                env=env)
    assert where.stdout.strip() == str(site / "linguafranca/pipeline/schema.yaml"), where.stderr
    plan = run(sys.executable, "-m", "snakemake", "-n", "all", cwd=workflow, env=env)
    assert plan.returncode == 0, plan.stderr[-3000:]
    assert re.search(r"^total\s+246$", plan.stdout, re.MULTILINE), plan.stdout[-2000:]
