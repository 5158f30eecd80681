"""Train the sandbox's byte-level BPE tokenizer on the training text (see linguafranca.sandbox.tokenizer)."""
from linguafranca.io.atomic import atomic_path
from linguafranca.pipeline.joblog import job_log
from linguafranca.sandbox.corpus import training_verses
from linguafranca.sandbox.tokenizer import save_tokenizer, train_tokenizer

with job_log(snakemake.log[0]):
    params = snakemake.params
    verses = training_verses(params.langs, params.books, snakemake.input[0])
    with atomic_path(snakemake.output[0], directory=True) as folder:
        save_tokenizer(train_tokenizer(verses, params.vocab_size), folder)
