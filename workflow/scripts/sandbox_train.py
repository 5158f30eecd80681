"""Train one sandbox size from scratch and save its checkpoints (see linguafranca.sandbox.train)."""
import logging

from linguafranca.io.tsv import write_tsv
from linguafranca.pipeline.joblog import job_log
from linguafranca.pipeline.threads import set_threads
from linguafranca.sandbox.corpus import training_verses
from linguafranca.sandbox.tokenizer import load_tokenizer
from linguafranca.sandbox.train import LOSS_COLUMNS, TrainSettings, pack, train

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    params, output = snakemake.params, snakemake.output
    settings = TrainSettings(**params.settings)
    tokenizer = load_tokenizer(snakemake.input.tokenizer)
    packed = pack(training_verses(list(params.mix), params.books, snakemake.input.db), tokenizer, settings.seq_len)
    logging.info("training sequences per language: %s", {lang: len(rows) for lang, rows in packed.items()})
    # device changes rounding only, so it comes from the config, not from params.
    rows = train(settings, packed, params.mix, tokenizer, dict(zip(params.steps, output.checkpoints)),
                 device=snakemake.config["sandbox"]["device"])
    write_tsv(output.loss, rows, LOSS_COLUMNS)
