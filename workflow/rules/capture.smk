# Capture: the mean MLP neuron activations of every sample, one job per (model, revision, dataset, language).


rule capture:
    input:
        manifest=MANIFEST,
        data=DATA,
    output:
        directory(ACTIVATIONS),
    params:
        settings=capture_settings,
    threads: 8
    resources:
        mem_mb=8000,
        runtime=120,
    log:
        LOGS + "/capture/{dataset}/{lang}.log",
    benchmark:
        BENCH + "/capture/{dataset}/{lang}.tsv"
    script:
        "../scripts/capture.py"
