# Capture: the mean MLP neuron activations of every sample, one job per (model, revision, dataset, language).


rule capture:
    input:
        manifest=MANIFEST,
        data=DATA,
    output:
        directory(ACTIVATIONS),
    log:
        "results/logs/{model}/{revision}/capture/{dataset}/{lang}.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/capture/{dataset}/{lang}.tsv"
    conda:
        ENV
    threads: model_threads
    resources:
        **MODEL_RESOURCES,
    params:
        settings=capture_settings,
        loading=loading,
        model_name=lambda wc: model_spec(wc)["name"],
        code=code_of("capture.py"),
    script:
        "../scripts/capture.py"
