"""The textfiles, table and hf loaders, and what prepare_dataset checks and writes for every loader."""

import json
import unicodedata

import pytest

from linguafranca.data.hub import XLSUM, load_hf
from linguafranca.data.prepare import LOADERS, check_prepared_set, language_spec, prepare_dataset, prepare_language
from linguafranca.data.samples import Sample, read_jsonl
from linguafranca.data.table import load_table
from linguafranca.data.textfiles import NTREX_FILES, load_textfiles
from linguafranca.errors import LinguaFrancaError
from tests.helpers.paths import shared_data

NINE = ["en", "zh", "fr", "es", "pt", "ar", "vi", "hi", "id"]


def _write(path, text):
    path.write_bytes(text.encode("utf-8"))
    return path


# --- textfiles -------------------------------------------------------------------------------------------------


@pytest.fixture
def three_files(tmp_path):
    _write(tmp_path / "en.txt", "\ufeffOne.\r\nTwo  \r\nThree\u2028still three.\r\n")
    _write(tmp_path / "fr.txt", "Un.\nDeux\nTrois.")
    _write(tmp_path / "hi.txt", "एक।\nदो\n")
    return tmp_path


def test_textfiles_ids_are_line_numbers(three_files):
    loaded = load_textfiles({"root": str(three_files), "files": {"en": "en.txt", "fr": "fr.txt"}}, ["fr", "en"])
    assert loaded["en"] == [("1", "One."), ("2", "Two"), ("3", "Three\u2028still three.")]
    assert loaded["fr"] == [("1", "Un."), ("2", "Deux"), ("3", "Trois.")]
    prefixed = load_textfiles({"root": str(three_files), "files": {"fr": "fr.txt"}, "id_prefix": "s"}, ["fr"])
    assert [sample.id for sample in prefixed["fr"]] == ["s1", "s2", "s3"]


def test_textfiles_line_counts_must_match(three_files):
    options = {"root": str(three_files), "files": {"en": "en.txt", "fr": "fr.txt", "hi": "hi.txt"}}
    with pytest.raises(LinguaFrancaError, match=r"misaligned .* en en.txt 3, fr fr.txt 3, hi hi.txt 2"):
        load_textfiles(options, ["en", "fr", "hi"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"files": {"en": "en.txt"}}, r"no file \(options.files\) for language 'fr'; it knows en"),
        ({"files": "flores"}, r"'files' must be a map lang -> file or 'ntrex'"),
        ({"files": {"en": "en.txt", "fr": "absent.txt"}}, r"no file .*absent.txt"),
    ],
)
def test_textfiles_user_errors(three_files, options, message):
    with pytest.raises(LinguaFrancaError, match=message):
        load_textfiles({"root": str(three_files), **options}, ["en", "fr"])


def test_missing_ntrex_files_say_where_to_get_ntrex(tmp_path):
    with pytest.raises(LinguaFrancaError, match=rf"^loader 'textfiles': no file {tmp_path}/newstest2019-src\.eng\.txt; "
                       r"NTREX-128 is the NTREX-128 folder of https://github\.com/MicrosoftTranslator/NTREX "):
        load_textfiles({"root": str(tmp_path), "files": "ntrex"}, ["en", "fr"])
    with pytest.raises(LinguaFrancaError, match=r"no file .*en\.txt$"):  # other files: no NTREX advice
        load_textfiles({"root": str(tmp_path), "files": {"en": "en.txt", "fr": "fr.txt"}}, ["en", "fr"])


def test_textfiles_defaults_to_the_ntrex_names(tmp_path):
    for lang, name in NTREX_FILES.items():
        _write(tmp_path / name, f"{lang} 1\n{lang} 2\n")
    loaded = load_textfiles({"root": str(tmp_path)}, NINE)
    assert {lang: [sample.text for sample in rows] for lang, rows in loaded.items()} == {
        lang: [f"{lang} 1", f"{lang} 2"] for lang in NINE
    }


def test_real_ntrex(ntrex_dir, tmp_path):
    prepare_dataset("ntrex", {"loader": "textfiles", "options": {"root": str(ntrex_dir)}}, NINE, 10, tmp_path)
    for lang in NINE:
        lines = (ntrex_dir / NTREX_FILES[lang]).read_text(encoding="utf-8").split("\n")
        assert len(lines) == 1998 and lines[-1] == ""  # 1,997 lines, each ending in a newline
        assert read_jsonl(tmp_path / f"{lang}.jsonl") == [
            (str(number), unicodedata.normalize("NFC", line.strip())) for number, line in enumerate(lines[:10], start=1)
        ]


# --- table -----------------------------------------------------------------------------------------------------


def _jsonl(path, records):
    return _write(path, "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records))


def test_table_orders_by_the_first_language(tmp_path):
    en = _jsonl(tmp_path / "en.jsonl", [{"id": 2, "text": "two"}, {"id": 1, "text": "one"}, {"id": 3, "text": "three"}])
    es = _jsonl(tmp_path / "es.jsonl", [{"id": 3, "text": "tres"}, {"id": 1, "text": "uno"}, {"id": 2, "text": "dos"}])
    loaded = load_table({"files": {"en": str(en), "es": str(es)}}, ["en", "es"])
    assert loaded["en"] == [("2", "two"), ("1", "one"), ("3", "three")]
    assert loaded["es"] == [("2", "dos"), ("1", "uno"), ("3", "tres")]


def test_table_tsv_joins_text_fields(tmp_path):
    tsv = _write(tmp_path / "en.tsv", 'key\ta\tb\nk1\t"Quoted" start.\tEnd.\nk2\tTwo\tparts\n')
    loaded = load_table({"files": {"en": str(tsv)}, "id_field": "key", "text_field": ["a", "b"]}, ["en"])
    assert loaded["en"] == [("k1", '"Quoted" start. End.'), ("k2", "Two parts")]
    as_tsv = _write(tmp_path / "en.txt", "id\ttext\nx\tHello\n")
    assert load_table({"files": {"en": str(as_tsv)}, "format": "tsv"}, ["en"])["en"] == [("x", "Hello")]


@pytest.mark.parametrize(
    ("name", "content", "options", "message"),
    [
        ("en.txt", "id\ttext\n", {}, r"cannot tell the format .* set option 'format' to jsonl or tsv"),
        ("en.tsv", "id\ttext\n", {"format": "csv"}, r"'format' must be jsonl or tsv, not 'csv'"),
        ("en.tsv", "id\ttext\nx\ty\tz\n", {}, r"en.tsv:2: the row does not have one value per column"),
        ("en.jsonl", '{"id": 1, "sentence": "a"}\n', {}, r"en.jsonl:1 has no field 'text'; it has id, sentence"),
        ("en.jsonl", '{"id": 1, "text": 5}\n', {}, r"en.jsonl:1: the text fields \['text'\] must hold strings"),
        ("en.jsonl", '{"id": 1,\n', {}, r"en.jsonl:1: not valid JSON"),
        ("en.jsonl", '{"id": null, "text": "a"}\n', {}, r"en.jsonl:1: the id field 'id' holds None; an id must be a"),
        ("en.jsonl", '{"id": 1.0, "text": "a"}\n', {}, r"en.jsonl:1: the id field 'id' holds 1.0; an id must be a"),
        ("en.jsonl", '{"id": true, "text": "a"}\n', {}, r"en.jsonl:1: the id field 'id' holds True; an id must be a"),
    ],
)
def test_table_user_errors(tmp_path, name, content, options, message):
    path = _write(tmp_path / name, content)
    with pytest.raises(LinguaFrancaError, match=message):
        load_table({"files": {"en": str(path)}, **options}, ["en"])


def test_table_id_sets_must_match(tmp_path):
    en = _jsonl(tmp_path / "en.jsonl", [{"id": str(i), "text": f"t{i}"} for i in range(8)])
    ar = _jsonl(tmp_path / "ar.jsonl", [{"id": str(i), "text": f"t{i}"} for i in [*range(1, 8), 9]])
    spec = {"loader": "table", "options": {"files": {"en": str(en), "ar": str(ar)}}}
    with pytest.raises(
        LinguaFrancaError,
        match=r"'tab' is not parallel: language 'ar' against 'en' has "
        r"missing ids '0' \(1 in all\); extra ids '9' \(1 in all\)",
    ):
        prepare_dataset("tab", spec, ["en", "ar"], None, tmp_path / "out")


def test_real_xstorycloze_through_table(tmp_path):
    folder = shared_data() / "xstorycloze"
    if not folder.is_dir():
        pytest.skip(f"XStoryCloze not found at {folder}: this test needs ../shared/data beside the repository")
    languages = ["en", "zh", "es", "ar", "hi", "id"]  # XStoryCloze has no fr, pt or vi
    files = {lang: str(folder / f"spring2016.val.{lang}.tsv.split_20_80_eval.tsv") for lang in languages}
    sentences = [f"InputSentence{i}" for i in range(1, 5)]
    spec = {"loader": "table", "options": {"files": files, "id_field": "InputStoryid", "text_field": sentences}}
    prepare_dataset("xstorycloze", spec, languages, None, tmp_path)
    for lang in languages:
        lines = [line.split("\t") for line in open(files[lang], encoding="utf-8").read().splitlines()[1:]]
        assert len(lines) == 1511  # the README's "1,510 eval stories" is one short
        assert read_jsonl(tmp_path / f"{lang}.jsonl") == [
            (line[0], unicodedata.normalize("NFC", " ".join(map(str.strip, line[1:5])))) for line in lines
        ]


# --- hf --------------------------------------------------------------------------------------------------------


@pytest.fixture
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_hf_reads_local_files_through_a_packaged_builder(offline):
    en = _jsonl(offline / "en.jsonl", [{"uid": "a", "body": "Alpha"}, {"uid": "b", "body": "Beta"}])
    vi = _jsonl(offline / "vi.jsonl", [{"uid": "a", "body": "Anpha"}, {"uid": "b", "body": "Bêta"}])
    options = {
        "path": "json",
        "data_files": {"en": str(en), "vi": str(vi)},
        "split": "validation",
        "columns": {"id": "uid", "text": "body"},
    }
    assert load_hf(options, ["en", "vi"]) == {
        "en": [("a", "Alpha"), ("b", "Beta")],
        "vi": [("a", "Anpha"), ("b", "Bêta")],
    }
    without_ids = load_hf({**options, "columns": {"text": "body"}}, ["vi"])
    assert without_ids == {"vi": [("0", "Anpha"), ("1", "Bêta")]}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"configs": {"en": "english"}, "data_files": "{en}"},
            r"no configuration or data_files for language 'vi'; it knows en",
        ),
        (
            {"data_files": {"en": "{en}", "vi": "{en}"}, "columns": {"text": "body"}},
            r"has no column 'body'; it has id, text",
        ),
        ({"data_files": {"en": "absent.jsonl", "vi": "absent.jsonl"}}, r"cannot load 'json' .* split 'test'"),
    ],
)
def test_hf_user_errors(offline, options, message):
    en = _jsonl(offline / "en.jsonl", [{"id": 1, "text": "One"}])
    if isinstance(options["data_files"], dict):
        options = {**options, "data_files": {lang: name.format(en=en) for lang, name in options["data_files"].items()}}
    else:
        options = {**options, "data_files": options["data_files"].format(en=en)}
    with pytest.raises(LinguaFrancaError, match=message):
        load_hf({"path": "json", **options}, ["en", "vi"])


def test_xlsum_spec():
    assert XLSUM["loader"] == "hf" and XLSUM["samples"] == 500 and XLSUM["aligned"] is False
    files = XLSUM["options"]["data_files"]
    assert list(files) == NINE and XLSUM["options"]["split"] == "validation"
    assert (
        files["zh"] == "hf://datasets/csebuetnlp/xlsum@refs%2Fconvert%2Fparquet/chinese_simplified/validation/*.parquet"
    )


# --- prepare_dataset -------------------------------------------------------------------------------------------


def _fake(monkeypatch, by_lang):
    monkeypatch.setitem(LOADERS, "fake", lambda options, languages: {lang: by_lang[lang] for lang in languages})
    return {"loader": "fake", "options": {}}


def test_prepare_keeps_the_first_samples_and_round_trips(monkeypatch, tmp_path):
    texts = {"en": ["é\u2028line", "two", "three"], "ar": ["واحد", "اثنان", "ثلاثة"]}
    spec = _fake(
        monkeypatch, {lang: [Sample(str(i), text) for i, text in enumerate(rows)] for lang, rows in texts.items()}
    )
    prepare_dataset("d", spec, ["en", "ar"], 2, tmp_path)
    assert read_jsonl(tmp_path / "en.jsonl") == [("0", "é\u2028line"), ("1", "two")]
    assert read_jsonl(tmp_path / "ar.jsonl") == [("0", "واحد"), ("1", "اثنان")]
    assert (tmp_path / "ar.jsonl").read_text(
        encoding="utf-8"
    ) == '{"id": "0", "text": "واحد"}\n{"id": "1", "text": "اثنان"}\n'
    assert sorted(path.name for path in tmp_path.iterdir()) == ["ar.jsonl", "en.jsonl"]  # no temporary left


@pytest.mark.parametrize(
    ("by_lang", "aligned", "message"),
    [
        (
            {"en": [("1", "a"), ("2", " ")], "fr": [("1", "b"), ("2", "c")]},
            True,
            r"'d': language 'en' has empty text for id '2'",
        ),
        ({"en": [("1", "a"), ("1", "b")], "fr": [("1", "b"), ("2", "c")]}, True, r"'d': language 'en' repeats id '1'"),
        ({"en": [("1", "a")], "fr": []}, True, r"'d': language 'fr' has no samples"),
        (
            {"en": [("1", "a"), ("2", "b")], "fr": [("2", "c"), ("1", "d")]},
            True,
            r"'fr' against 'en' has the same ids in another order: sample 0 is '2', in 'en' '1'",
        ),
        (
            {"en": [(str(i), "a") for i in range(9)], "fr": [(str(i), "b") for i in range(1, 9)]},
            True,
            r"missing ids '0' \(1 in all\)$",
        ),
        (
            {"en": [(str(i), "a") for i in range(9)], "fr": [(str(i), "b") for i in range(9, 18)]},
            True,
            r"missing ids '0', '1', '2', '3', '4', \.\.\. \(9 in all\); "
            r"extra ids '9', '10', '11', '12', '13', \.\.\. \(9 in all\)",
        ),
        ({"en": [("1", "a")], "fr": [("2", "")]}, False, r"'d': language 'fr' has empty text for id '2'"),
        (
            {"en": [("1", "a"), ("2", "\u200b\u200d \ufeff\u2060\t")], "fr": [("1", "b"), ("2", "c")]},
            True,
            r"'d': language 'en' has empty text for id '2'",
        ),
    ],
)
def test_prepare_rejects(monkeypatch, tmp_path, by_lang, aligned, message):
    spec = _fake(monkeypatch, {lang: [Sample(*row) for row in rows] for lang, rows in by_lang.items()})
    with pytest.raises(LinguaFrancaError, match=message):
        prepare_dataset("d", {**spec, "aligned": aligned}, ["en", "fr"], None, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_every_loader_writes_nfc_text(monkeypatch, tmp_path):
    decomposed = "cafe\u0301 \u1100\u1161"  # e + combining acute; Hangul jamo that compose to one syllable
    spec = _fake(monkeypatch, {"en": [Sample("1", decomposed)], "fr": [Sample("1", "caf\u00e9")]})
    prepare_dataset("d", spec, ["en", "fr"], None, tmp_path)
    assert read_jsonl(tmp_path / "en.jsonl") == [("1", "caf\u00e9 \uac00")]


def test_a_table_loaded_file_is_normalised_too(tmp_path):
    en = _jsonl(tmp_path / "en.jsonl", [{"id": 7, "text": "cafe\u0301"}])
    spec = {"loader": "table", "options": {"files": {"en": str(en)}}}
    prepare_dataset("d", spec, ["en"], None, tmp_path / "out")
    assert read_jsonl(tmp_path / "out" / "en.jsonl") == [("7", "caf\u00e9")]


def test_two_languages_with_the_same_texts_are_warned_of(monkeypatch, tmp_path, caplog):
    same = [Sample("1", "a"), Sample("2", "b")]
    spec = _fake(monkeypatch, {"en": same, "de": same, "fr": [Sample("1", "a"), Sample("2", "c")]})
    prepare_dataset("d", spec, ["en", "de", "fr"], None, tmp_path)
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert warnings == [
        "dataset 'd': languages en and de have the same text in all 2 samples; was the same file given for both?"
    ]


def test_prepare_allows_different_ids_when_not_aligned(monkeypatch, tmp_path):
    spec = _fake(monkeypatch, {"en": [Sample("a", "x"), Sample("b", "y")], "hi": [Sample("c", "z")]})
    prepare_dataset("xlsum", {**spec, "aligned": False}, ["en", "hi"], 1, tmp_path)
    assert read_jsonl(tmp_path / "hi.jsonl") == [("c", "z")]


@pytest.mark.parametrize(
    ("spec", "samples", "message"),
    [
        ({"loader": "csv"}, None, r"'d': unknown loader 'csv'; the loaders are bible, textfiles, table, hf"),
        ({"loader": "table"}, 0, r"samples must be a positive integer or null, not 0"),
    ],
)
def test_prepare_user_errors(tmp_path, spec, samples, message):
    with pytest.raises(LinguaFrancaError, match=message):
        prepare_dataset("d", spec, ["en"], samples, tmp_path)


def test_read_jsonl_names_the_bad_line(tmp_path):
    path = _write(tmp_path / "en.jsonl", '{"id": "1", "text": "a"}\n{"id": 2, "text": "b"}\n')
    with pytest.raises(LinguaFrancaError, match=r"en.jsonl:2: expected an object"):
        read_jsonl(path)


# --- the sample selection never changes silently ---------------------------------------------------------------


def test_a_repeated_id_beyond_the_first_samples_is_refused(tmp_path):
    """en repeats s2 on its sixth line; the table loader used to order s2 last, so the first 4 were s1, s3, s4, s5."""
    rows = [{"id": f"s{i}", "text": f"t{i}"} for i in range(1, 6)]
    en = _jsonl(tmp_path / "en.jsonl", [*rows, {"id": "s2", "text": "again"}])
    fr = _jsonl(tmp_path / "fr.jsonl", rows)
    spec = {"loader": "table", "options": {"files": {"en": str(en), "fr": str(fr)}}}
    with pytest.raises(LinguaFrancaError, match=r"'d': language 'en' repeats id 's2' \(1 in all\); ids must be unique "
                                                r"in the whole file"):
        prepare_dataset("d", spec, ["en", "fr"], 4, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_more_samples_than_the_data_has_is_refused(tmp_path):
    rows = [{"id": str(i), "text": f"t{i}"} for i in range(8)]
    spec = {"loader": "table", "options": {"files": {lang: str(_jsonl(tmp_path / f"{lang}.jsonl", rows))
                                                      for lang in ("en", "fr")}}}
    with pytest.raises(LinguaFrancaError, match=r"'d': samples is 50, but language 'en' has only 8; set samples to 8 "
                                                r"or fewer \(or 'all'\)"):
        prepare_dataset("d", spec, ["en", "fr"], 50, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    prepare_dataset("d", spec, ["en", "fr"], 8, tmp_path / "out")
    assert len(read_jsonl(tmp_path / "out" / "fr.jsonl")) == 8


# --- files that are not UTF-8 -----------------------------------------------------------------------------------

LATIN1 = "id\ttext\n1\tcafé\n".encode("latin-1")  # é is byte 0xe9 at offset 13, on line 2


@pytest.mark.parametrize(
    ("name", "content", "read", "message"),
    [
        ("en.tsv", LATIN1, lambda p: load_table({"files": {"en": str(p)}}, ["en"]),
         r"loader 'table': .*en.tsv:2: not UTF-8 text \(invalid continuation byte: byte 0xe9 at byte offset 13\)"),
        ("en.jsonl", b'{"id": "1", "text": "ok"}\n{"id": "2", "text": "\xff"}\n',
         lambda p: load_table({"files": {"en": str(p)}}, ["en"]),
         r"loader 'table': .*en.jsonl:2: not UTF-8 text \(invalid start byte: byte 0xff at byte offset 47\)"),
        ("en.jsonl", b'\xef\xbb\xbf{"id": "1", "text": "\xc3"}\n', read_jsonl,
         r"^[^ ]*en.jsonl:1: not UTF-8 text \(invalid continuation byte: byte 0xc3 at byte offset 24\)"),
        ("en.txt", "One.\nTwo.\nThr\xe9e.\n".encode("latin-1"),
         lambda p: load_textfiles({"root": str(p.parent), "files": {"en": p.name}}, ["en"]),
         r"loader 'textfiles': .*en.txt:3: not UTF-8 text \(invalid continuation byte: byte 0xe9 at byte offset 13\)"),
    ],
)
def test_a_file_that_is_not_utf8_is_named_with_the_byte(tmp_path, name, content, read, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LinguaFrancaError, match=message):
        read(path)


# --- the workflow's halves: one job per language, then one for the set -----------------------------------------


def test_a_language_spec_holds_that_languages_files_only():
    spec = {"loader": "table", "options": {"files": {"en": "/e.jsonl", "fr": "/f.jsonl"}, "text": "t"}, "samples": 3}
    assert language_spec(spec, "fr", ["en", "fr"]) == {
        "loader": "table", "options": {"files": {"fr": "/f.jsonl"}, "text": "t"}, "samples": 3}
    assert language_spec(spec, "de", ["de"]) == spec  # unknown: whole, so the loader's message lists en and fr
    hf = {"loader": "hf", "options": {"path": "p", "data_files": "all.parquet", "configs": {"en": "a", "hi": "b"}}}
    assert language_spec(hf, "hi", ["en", "hi"])["options"] == {
        "path": "p", "data_files": "all.parquet", "configs": {"hi": "b"}}
    bible = {"loader": "bible", "options": {"db": "/no/such/bible.db", "skip": "1:1:1"}}
    assert language_spec(bible, "en", ["en"]) == bible  # no gaps to find, a skip that is no list left to the loader


def test_languages_prepared_apart_are_checked_as_a_set(monkeypatch, tmp_path):
    rows = {"en": [Sample(str(i), f"e{i}") for i in range(5)], "fr": [Sample(str(i), f"f{i}") for i in (0, 2, 3, 4)]}
    spec = _fake(monkeypatch, rows)
    paths = {lang: (tmp_path / f"{lang}.jsonl", tmp_path / f"{lang}.ids.json") for lang in rows}
    for lang, (text, ids) in paths.items():
        prepare_language("d", spec, lang, 3, text, ids)
    assert read_jsonl(paths["fr"][0]) == [("0", "f0"), ("2", "f2"), ("3", "f3")]
    assert json.loads(paths["fr"][1].read_text()) == ["0", "2", "3", "4"]
    texts, ids = ({lang: pair[i] for lang, pair in paths.items()} for i in (0, 1))
    with pytest.raises(LinguaFrancaError, match=r"'fr' against 'en' has missing ids '1' \(1 in all\)$"):
        check_prepared_set("d", spec, texts, ids, tmp_path / "languages.json")
    assert not (tmp_path / "languages.json").exists()
    check_prepared_set("d", {**spec, "aligned": False}, texts, ids, tmp_path / "languages.json")
    assert json.loads((tmp_path / "languages.json").read_text()) == {
        "dataset": "d", "languages": ["en", "fr"], "aligned": False, "samples": {"en": 3, "fr": 3}}


def test_hf_refuses_a_null_id_naming_file_language_and_value(offline):
    """A JSON null in the id column reaches the loader as None; it must not become the id "None"."""
    en = _jsonl(offline / "en.jsonl", [{"uid": "a", "body": "Alpha"}, {"uid": None, "body": "Beta"}])
    options = {"path": "json", "data_files": {"en": str(en)}, "split": "validation",
               "columns": {"id": "uid", "text": "body"}}
    with pytest.raises(LinguaFrancaError) as refused:
        load_hf(options, ["en"])
    assert str(refused.value) == ("loader 'hf': 'json' (en) has the id None; an id must be a string or an integer "
                                  "(option 'columns')")
