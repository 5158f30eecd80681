# Resources: model weights resolved once per (model, revision), parallel text prepared once per dataset.
# Both may need the network (the hub, hub datasets), which cluster nodes often lack: on a cluster they run on the
# machine Snakemake runs on (docs/cluster.md).


include: "helpers/inputs.smk"


localrules:
    resolve_model,
    prepare_dataset,


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


rule prepare_dataset:
    input:
        dataset_inputs,
    output:
        expand(DATA, dataset="{dataset}", lang=LANGS),
    log:
        "results/logs/prepare_dataset/{dataset}.log",
    benchmark:
        "results/benchmarks/prepare_dataset/{dataset}.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        spec=dataset_spec,
        samples=dataset_samples,
        languages=LANGS,
        code=code_of("prepare_dataset.py"),
    script:
        "../scripts/prepare_dataset.py"
