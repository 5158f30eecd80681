"""The concept intervention: experts forced to their median response, texts sampled from BOS, their language and
whether they mention the concept (see linguafranca.probes.intervention)."""
import json

from linguafranca.data.samples import read_jsonl
from linguafranca.io.atomic import write_text
from linguafranca.io.checksummed import read_group
from linguafranca.io.probe_stores import CONCEPT_STORE
from linguafranca.io.tsv import write_tsv
from linguafranca.model.loading import load_job_model
from linguafranca.pipeline.joblog import job_log
from linguafranca.pipeline.paths import store_of
from linguafranca.pipeline.threads import set_threads
from linguafranca.probes.concepts import read_responses
from linguafranca.probes.intervention import (
    INTERVENTION_COLUMNS,
    LEXICON_COLUMNS,
    chosen_concepts,
    intervention_records,
    lexicon,
)

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    params, output = snakemake.params, snakemake.output
    settings, langs = params.intervention, params.langs
    store, attrs = read_group(CONCEPT_STORE, store_of(snakemake.input.ap), ["experts", "labels", "kept"])
    responses, sample_ids, _ = read_responses([store_of(path) for path in snakemake.input.responses], langs)
    names = list(attrs["concepts"])
    chosen = chosen_concepts(names, store["labels"], store["kept"], settings["concepts"])
    texts = {}
    for lang, path in zip(langs, snakemake.input.texts):
        by_id = {sample.id: sample.text for sample in read_jsonl(path)}
        texts[lang] = [by_id[i] for i in sample_ids]
    words = {c: lexicon(params.words[names[c]], texts, store["labels"][c], settings["lexicon_words"]) for c in chosen}
    spec = snakemake.config["models"][snakemake.wildcards.model]
    model, tokenizer, _ = load_job_model(snakemake.input.manifest, params.loading, spec)
    records = intervention_records(
        model, tokenizer, store["experts"], responses, store["labels"], chosen, names, langs,
        {c: set().union(*words[c].values()) for c in chosen}, settings,
    )
    write_text(output.jsonl, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    write_tsv(output.table, records, INTERVENTION_COLUMNS)
    write_tsv(output.lexicon, [{"concept": names[c], "lang": lang, "words": ",".join(units)}
                               for c in chosen for lang, units in words[c].items()], LEXICON_COLUMNS)
