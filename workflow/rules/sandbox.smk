# The pretraining sandbox (docs/series.md): a byte-level BPE tokenizer, then one training job per size
# that saves every checkpoint as a model folder. Each checkpoint is the input of resolve_model for model
# sandbox-{size} at revision step-NNNN, and from there goes through every stage like any other model.


include: "helpers/sandbox.smk"


rule sandbox_tokenizer:
    input:
        SANDBOX_DB,
    output:
        directory(SANDBOX_TOKENIZER),
    log:
        "results/logs/sandbox/tokenizer.log",
    benchmark:
        "results/benchmarks/sandbox/tokenizer.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        langs=list(training_mix(config)),
        books=training_books(config),
        vocab_size=SANDBOX["vocab_size"],
        code=code_of("sandbox_tokenizer.py"),
    script:
        "../scripts/sandbox_tokenizer.py"


rule sandbox_train:
    input:
        tokenizer=SANDBOX_TOKENIZER,
        db=SANDBOX_DB,
    output:
        checkpoints=[
            directory(path)
            for path in expand(
                SANDBOX_CHECKPOINT,
                revision=map(checkpoint_name, checkpoint_steps(SANDBOX)),
                allow_missing=True,
            )
        ],
        loss=SANDBOX_LOSS,
    log:
        "results/logs/sandbox/{size}/train.log",
    benchmark:
        "results/benchmarks/sandbox/{size}/train.tsv"
    conda:
        ENV
    threads: SANDBOX["threads"]
    resources:
        **SANDBOX_GPU,
        mem_mb=4000,
        runtime=240,
    params:
        settings=sandbox_settings,
        mix=training_mix(config),
        books=training_books(config),
        steps=checkpoint_steps(SANDBOX),
        code=code_of("sandbox_train.py"),
    script:
        "../scripts/sandbox_train.py"


rule sandbox_loss_figure:
    input:
        SANDBOX_LOSS,
    output:
        png=report(
            with_ext(SANDBOX_LOSS_FIGURE, "png"),
            caption="../report/sandbox_loss.rst",
            category=REPORT_SANDBOX,
            subcategory="Training loss",
            labels={"size": "{size}"},
        ),
        pdf=with_ext(SANDBOX_LOSS_FIGURE, "pdf"),
    log:
        "results/logs/sandbox/{size}/loss_figure.log",
    benchmark:
        "results/benchmarks/sandbox/{size}/loss_figure.tsv"
    conda:
        ENV
    params:
        figures=one_figure("plot_loss"),
        code=code_of("figure.py"),
    script:
        "../scripts/figure.py"
