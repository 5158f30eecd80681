# Capture: the mean MLP neuron activations of every sample, one job per (model, revision, dataset, language); for a
# model with jobs: combined (small models, where start-up dominates), one job per (model, revision, dataset).


include: "helpers/capture.smk"


rule capture:
    input:
        manifest=MANIFEST,
        data=[DATA],  # a list, as capture_combined's: the script captures each language it is given
    output:
        ACTIVATIONS,  # the store's zarr.json (linguafranca/pipeline/paths.py: store_file)
    log:
        "results/logs/{model}/{revision}/capture/{dataset}/{lang}.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/capture/{dataset}/{lang}.tsv"
    wildcard_constraints:
        model=SPLIT_MODELS,
    conda:
        ENV
    threads: model_threads
    resources:
        **MODEL_RESOURCES,
    params:
        langs=lambda wc: [wc.lang],
        settings=capture_settings,
        loading=loading,
        model_name=lambda wc: model_spec(wc)["name"],
        code=code_of("capture.py"),
    script:
        "../scripts/capture.py"


use rule capture as capture_combined with:
    input:
        manifest=MANIFEST,
        data=expand(DATA, lang=LANGS, allow_missing=True),
        languages=LANGUAGE_SET,
    output:
        stores_of(None),
    log:
        "results/logs/{model}/{revision}/capture/{dataset}.log",
    benchmark:
        "results/benchmarks/{model}/{revision}/capture/{dataset}.tsv"
    wildcard_constraints:
        model=COMBINED_MODELS,
    params:
        langs=LANGS,
        settings=capture_settings,
        loading=loading,
        model_name=lambda wc: model_spec(wc)["name"],
        code=code_of("capture.py"),
