"""Concept neurons: AP of every neuron per (concept, language), experts, their overlap across languages and their
cross-lingual AP (see linguafranca.probes.concepts)."""
from linguafranca.data.samples import read_jsonl
from linguafranca.io.checksummed import Stored, index_coordinates, write_group
from linguafranca.io.tsv import write_tsv
from linguafranca.pipeline.joblog import job_log
from linguafranca.pipeline.paths import store_of
from linguafranca.probes.concepts import (
    CONCEPT_COLUMNS,
    CROSS_COLUMNS,
    OVERLAP_COLUMNS,
    SHARED_COLUMNS,
    concept_labels,
    concept_neurons,
    cross_lingual_rows,
    overlap_rows,
    read_responses,
    shared_rows,
)

with job_log(snakemake.log[0]):
    params, output = snakemake.params, snakemake.output
    settings, langs = params.concepts, params.langs
    responses, sample_ids, attrs = read_responses([store_of(path) for path in snakemake.input.responses], langs)
    english = {sample.id: sample.text for sample in read_jsonl(snakemake.input.english[0])}
    names = list(settings["words"])
    labels = concept_labels([english[i] for i in sample_ids], settings["words"])
    ap, experts, contrast, kept = concept_neurons(responses, labels, settings, params.seed)
    n_layers, width = ap.shape[2:]
    write_group(
        store_of(output.ap),
        {
            "ap": Stored(ap, (1, len(langs), 1, width), ("concept", "lang", "layer", "neuron")),
            "experts": Stored(experts, (1, len(langs), n_layers, width), ("concept", "lang", "layer", "neuron")),
            "labels": Stored(labels, labels.shape, ("concept", "sample")),
            "kept": Stored(kept, kept.shape, ("concept",)),
        },
        {**{key: attrs[key] for key in ("model", "revision", "dataset", "compute", "statistic")},
         "concepts": names, "langs": list(langs), "sample_ids": sample_ids, "settings": dict(settings),
         "seed": params.seed},
        {"concept": names, "lang": list(langs), "sample": sample_ids,
         **index_coordinates(layer=n_layers, neuron=width)},
    )
    write_tsv(output.tables[0], [
        {"concept": name, "words": ",".join(settings["words"][name]), "n_positive": int(labels[c].sum()),
         "n_contrast": len(contrast[c]), "kept": bool(kept[c])} for c, name in enumerate(names)
    ], CONCEPT_COLUMNS)
    kept_experts, kept_names = experts[kept], [name for name, k in zip(names, kept) if k]
    write_tsv(output.tables[1], overlap_rows(kept_experts, langs, kept_names), OVERLAP_COLUMNS)
    write_tsv(output.tables[2], shared_rows(kept_experts, settings["min_languages"]), SHARED_COLUMNS)
    write_tsv(output.tables[3], cross_lingual_rows(ap[kept], kept_experts, langs), CROSS_COLUMNS)
