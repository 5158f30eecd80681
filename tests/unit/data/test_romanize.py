"""Romanised script controls (linguafranca.data.romanize): a -Latn language is its base's text through uroman."""

import copy
import json
import os
import subprocess
import sys

import pytest
import uroman
import yaml

from linguafranca.data.prepare import dataset_files, language_spec, prepare_dataset
from linguafranca.data.romanize import (
    latin_share,
    romanize_texts,
    romanized_base,
    romanizer_version,
    uroman_code,
    with_romanized,
)
from linguafranca.data.samples import Sample, read_jsonl
from linguafranca.errors import LinguaFrancaError
from linguafranca.pipeline.config import validate
from tests.helpers.paths import REPO

# Genesis 1:1 in the default translations (hi i, ar y, zh c) and what uroman 1.3.1.1 writes for it.
VERSES = {
    "hi": ("आदि में परमेश्‍वर ने आकाश और पृथ्वी की सृष्टि की।", "aadi mem parameshvar ne aakaash aur prthvii kii srsstti kii."),
    "ar": ("فِي الْبَدْءِ خَلَقَ اللهُ السَّمَاوَاتِ وَالأَرْضَ.", "fiy albad'i khalaqa allhu alsamaawaati waalaarda."),
    "zh": ("起初，神创造天地。", "qichu, shenchuangzaotiande."),
}


@pytest.fixture(scope="module")
def own_uroman():
    return uroman.Uroman()


@pytest.mark.parametrize("lang", sorted(VERSES))
def test_romanises_as_uroman_does(lang, own_uroman):
    text, expected = VERSES[lang]
    assert romanize_texts([text], lang) == [expected]
    assert expected == " ".join(own_uroman.romanize_string(text, uroman_code(lang)).split())
    assert latin_share([expected]) == 1.0


def test_codes():
    assert [romanized_base(code) for code in ("hi-Latn", "sr-Latn-RS", "zh-Hant", "en")] == ["hi", "sr-RS", None, None]
    assert [uroman_code(code) for code in ("hi", "ar", "zh", "fa", "uk", "ru", "fil")] == [
        "hin", "ara", "zho", "fas", "ukr", "rus", "fil"
    ]


def _tables(tmp_path, texts):
    files = {}
    for lang, rows in texts.items():
        files[lang] = tmp_path / f"{lang}.jsonl"
        files[lang].write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in rows), encoding="utf-8")
    return {"loader": "table", "options": {"files": {lang: str(path) for lang, path in files.items()}}}


TEXTS = {
    "en": [("g1", "In the beginning"), ("g2", "And the earth"), ("g3", "And God said")],
    "hi": [("g1", VERSES["hi"][0]), ("g2", "और पृथ्वी"), ("g3", "तब परमेश्‍वर ने कहा")],
    "fr": [("g1", "Au commencement"), ("g2", "La terre était"), ("g3", "Dieu dit")],
}


def test_prepares_a_romanised_language_with_the_base_ids_and_provenance(tmp_path):
    spec = _tables(tmp_path, TEXTS)
    prepare_dataset("t", spec, ["en", "hi", "hi-Latn"], 2, tmp_path / "out")
    hindi, romanised = (read_jsonl(tmp_path / "out" / f"{lang}.jsonl") for lang in ("hi", "hi-Latn"))
    assert [s.id for s in romanised] == [s.id for s in hindi] == ["g1", "g2"]
    assert romanised[0].text == VERSES["hi"][1]
    record = json.loads((tmp_path / "out" / "hi-Latn.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert record["romanized"] == {"from": "hi", "romanizer": f"uroman {romanizer_version()}", "lcode": "hin"}
    assert "romanized" not in json.loads((tmp_path / "out" / "hi.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert dataset_files(spec, ["hi-Latn"]) == [spec["options"]["files"]["hi"]]


def test_the_setting_and_the_version_are_params_of_the_romanised_job_only(tmp_path):
    spec = _tables(tmp_path, TEXTS)
    langs = ["en", "hi", "hi-Latn"]
    romanised = language_spec(spec, "hi-Latn", langs)
    assert romanised["options"]["files"] == {"hi": spec["options"]["files"]["hi"]}
    assert romanised["romanize"]["romanizer"] == f"uroman {romanizer_version()}"
    assert language_spec({**spec, "romanize": False}, "hi-Latn", langs)["romanize"] is False
    for lang in ("en", "hi"):
        assert language_spec({**spec, "romanize": True}, lang, langs) == language_spec(
            {**spec, "romanize": False}, lang, langs
        ) == language_spec(spec, lang, langs)


def _one_line_error(spec, langs, tmp_path):
    with pytest.raises(LinguaFrancaError) as error:
        prepare_dataset("t", spec, langs, 2, tmp_path / "out")
    assert "\n" not in str(error.value)
    return str(error.value)


def test_a_latin_script_base_is_refused(tmp_path):
    message = _one_line_error(_tables(tmp_path, TEXTS), ["en", "fr-Latn"], tmp_path)
    assert message == (
        "dataset 't': fr-Latn would romanise fr, but fr is already in Latin script (100% of its letters); "
        "drop fr-Latn from languages"
    )


def test_romanize_false_asks_the_loader_for_the_code_itself(tmp_path):
    spec = {**_tables(tmp_path, TEXTS), "romanize": False}
    assert "for language 'hi-Latn'" in _one_line_error(spec, ["en", "hi-Latn"], tmp_path)
    own = {**TEXTS, "hi-Latn": [("g1", "own text"), ("g2", "of mine"), ("g3", "here")]}
    spec = {**_tables(tmp_path, own), "romanize": False}
    prepare_dataset("t", spec, ["en", "hi-Latn"], 2, tmp_path / "own")
    assert read_jsonl(tmp_path / "own" / "hi-Latn.jsonl")[0] == Sample("g1", "own text")


def test_with_romanized_loads_each_base_once():
    calls = []

    def loader(options, languages):
        calls.append(languages)
        return {lang: [Sample("1", VERSES.get(lang, ("Hello",))[0])] for lang in languages}

    loaded = with_romanized(loader, "sandbox")({}, ["en", "zh", "zh-Latn"])
    assert calls == [["en", "zh"]]
    assert loaded["zh-Latn"] == [Sample("1", VERSES["zh"][1])] and loaded["zh"][0].text == VERSES["zh"][0]


DEFAULT = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_schema_gives_romanize_a_default_and_refuses_a_non_boolean():
    config = validate(copy.deepcopy(DEFAULT))
    assert all(spec["romanize"] is True for spec in config["datasets"].values())
    broken = copy.deepcopy(DEFAULT)
    broken["datasets"]["bible"]["romanize"] = "sometimes"
    with pytest.raises(LinguaFrancaError, match="datasets.bible.romanize"):
        validate(broken)


def test_romanised_example_names_the_default_languages_and_three_romanised():
    config = validate(yaml.safe_load((REPO / "config" / "examples" / "romanised.yaml").read_text()))
    assert config["languages"] == [*DEFAULT["languages"], "hi-Latn", "ar-Latn", "zh-Latn"]


def test_romanised_example_dry_runs_offline(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    run = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory",
                          str(tmp_path), "--configfile", str(REPO / "config" / "examples" / "romanised.yaml"), "-n",
                          "all"], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "resources/data/bible/hi-Latn.jsonl" in run.stdout and "condition=random_zh-Latn" in run.stdout
