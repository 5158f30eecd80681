# Language-ID probes per layer and concept neurons across languages (Riemenschneider & Frank 2025), per
# (model, revision): one model job captures every language (few jobs per point keep start-up low), CPU jobs fit the
# probes and the concept APs, one model job runs the intervention, and a summary per point feeds a series.


include: "helpers/probes.smk"


rule probe_capture:
    input:
        manifest=MANIFEST,
        texts=expand(DATA, lang=LANGS, allow_missing=True),
        languages=LANGUAGE_SET,
    output:
        tokens=expand(TOKENS, lang=LANGS, allow_missing=True),
        responses=expand(RESPONSES, lang=LANGS, allow_missing=True),
    log:
        "results/logs/{model}/{revision}/probes/{dataset}_capture.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/probes/{dataset}_capture.tsv"
    conda:
        ENV
    threads: model_threads
    resources:
        **MODEL_RESOURCES,
    params:
        langs=LANGS,
        settings=lambda wc: {key: model_spec(wc)[key] for key in ("max_length", "bos")},
        probes=probe_settings(),
        loading=loading,
        code=code_of("probe_capture.py"),
    script:
        "../scripts/probe_capture.py"


rule probes:
    input:
        tokens=expand(TOKENS, lang=LANGS, allow_missing=True),
    output:
        table=LANGUAGE_ID,
        png=report(
            with_ext(LANGUAGE_ID_FIGURE, "png"),
            caption="../report/language_id.rst",
            category=REPORT_PROBES,
            subcategory="Language-ID probe accuracy by depth",
            labels=REPORT_LABELS,
        ),
        pdf=with_ext(LANGUAGE_ID_FIGURE, "pdf"),
    log:
        "results/logs/{model}/{revision}/probes/{dataset}_language_id.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/probes/{dataset}_language_id.tsv"
    conda:
        ENV
    threads: 4
    params:
        langs=LANGS,
        settings={
            key: config["probes"][key]
            for key in ("probe_seeds", "test_fraction", "max_iter")
        },
        code=code_of("probes.py"),
    script:
        "../scripts/probes.py"


rule concepts:
    input:
        responses=expand(RESPONSES, lang=LANGS, allow_missing=True),
        english=expand(DATA, lang="en", allow_missing=True),
    output:
        ap=CONCEPT_AP,
        tables=expand(CONCEPT_TABLE, table=CONCEPT_TABLES, allow_missing=True),
    log:
        "results/logs/{model}/{revision}/probes/{dataset}_concepts.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/probes/{dataset}_concepts.tsv"
    conda:
        ENV
    params:
        langs=LANGS,
        seed=config["probes"]["seed"],
        concepts={
            key: value
            for key, value in config["probes"]["concepts"].items()
            if key != "response"
        },
        code=code_of("concepts.py"),
    script:
        "../scripts/concepts.py"


rule concept_intervention:
    input:
        manifest=MANIFEST,
        ap=CONCEPT_AP,
        responses=expand(RESPONSES, lang=LANGS, allow_missing=True),
        texts=expand(DATA, lang=LANGS, allow_missing=True),
    output:
        jsonl=INTERVENTION_JSONL,
        table=expand(CONCEPT_TABLE, table="intervention", allow_missing=True)[0],
        lexicon=expand(CONCEPT_TABLE, table="lexicon", allow_missing=True)[0],
    log:
        "results/logs/{model}/{revision}/probes/{dataset}_intervention.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/probes/{dataset}_intervention.tsv"
    conda:
        ENV
    threads: model_threads
    resources:
        **MODEL_RESOURCES,
    params:
        langs=LANGS,
        words=config["probes"]["concepts"]["words"],
        intervention=config["probes"]["intervention"],
        loading=loading,
        code=code_of("concept_intervention.py"),
    script:
        "../scripts/concept_intervention.py"


rule probe_summary:
    input:
        language_id=LANGUAGE_ID,
        overlap=expand(CONCEPT_TABLE, table="overlap", allow_missing=True)[0],
        shared=expand(CONCEPT_TABLE, table="shared", allow_missing=True)[0],
    output:
        table=PROBE_SUMMARY,
        page=report(
            PROBE_SUMMARY_PAGE,
            caption="../report/probe_summary.rst",
            category=REPORT_PROBES,
            subcategory="Probe summary per layer",
            labels=REPORT_LABELS,
        ),
    log:
        "results/logs/{model}/{revision}/probes/{dataset}_summary.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/probes/{dataset}_summary.tsv"
    conda:
        ENV
    params:
        code=code_of("probe_summary.py"),
    script:
        "../scripts/probe_summary.py"
