# Resources: model weights resolved once per (model, revision), parallel text prepared once per dataset.


rule resolve_model:
    output:
        MANIFEST,
    params:
        source=lambda wc: model_spec(wc)["source"],
        name=lambda wc: model_spec(wc)["name"],
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    log:
        LOGS + "/resolve_model.log",
    script:
        "../scripts/resolve_model.py"


rule prepare_dataset:
    output:
        expand(DATA, dataset="{dataset}", lang=LANGS),
    params:
        spec=dataset_spec,
        samples=dataset_samples,
        languages=LANGS,
    resources:
        mem_mb=2000,
        runtime=10,
    log:
        "results/logs/prepare_dataset/{dataset}.log",
    script:
        "../scripts/prepare_dataset.py"
