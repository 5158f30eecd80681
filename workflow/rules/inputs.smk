# Resources: model weights resolved once per (model, revision); parallel text prepared once per (dataset, language),
# then checked as a set. Both may need the network (the hub, hub datasets), which cluster nodes often lack: on a
# cluster they run on the machine Snakemake runs on (docs/cluster.md).


include: "helpers/inputs.smk"


localrules:
    resolve_model,
    prepare_language,
    check_languages,


rule resolve_model:
    input:
        model_inputs,
    output:
        MANIFEST,
    log:
        "results/logs/{model}/{revision}/resolve_model.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/resolve_model.tsv"
    conda:
        ENV
    threads: 8
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        spec=model_source,
        code=code_of("resolve_model.py"),
    script:
        "../scripts/resolve_model.py"


# One job per (dataset, language), reading only that language's files (or the shared database or table), so that
# an edited or a new language reruns its own chain.
rule prepare_language:
    input:
        dataset_inputs,
    output:
        text=DATA,
        ids=DATA_IDS,
    log:
        "results/logs/prepare_language/{dataset}/{lang}.log",
    benchmark:
        "results/benchmarks/prepare_language/{dataset}/{lang}.tsv"
    priority: 50
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        spec=language_source,
        samples=dataset_samples,
        code=code_of("prepare_language.py"),
    script:
        "../scripts/prepare_language.py"


# The language set, checked once every language is prepared (parallel ids, no text given twice); its record is the
# input of every job that combines languages, and its priority puts it before the captures, so a set that is not
# parallel stops the run before hours of capture.
rule check_languages:
    input:
        texts=expand(DATA, lang=LANGS, allow_missing=True),
        ids=expand(DATA_IDS, lang=LANGS, allow_missing=True),
    output:
        LANGUAGE_SET,
    log:
        "results/logs/check_languages/{dataset}.log",
    benchmark:
        "results/benchmarks/check_languages/{dataset}.tsv"
    priority: 50
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        spec=dataset_spec,
        languages=LANGS,
        code=code_of("check_languages.py"),
    script:
        "../scripts/check_languages.py"
