"""Language-ID probes per layer on the token sample, with their chance rows and figure (see linguafranca.probes)."""
from linguafranca.figures.probes import plot_probe_accuracy
from linguafranca.io.tsv import write_tsv
from linguafranca.pipeline.joblog import job_log
from linguafranca.pipeline.paths import store_of
from linguafranca.pipeline.threads import set_threads
from linguafranca.probes.language_id import COLUMNS, probe_rows, read_probe_inputs

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    settings = snakemake.params.settings
    stores = [store_of(path) for path in snakemake.input.tokens]
    layers, langs, sample_ids = read_probe_inputs(stores, snakemake.params.langs)
    rows = probe_rows(layers, langs, sample_ids, range(settings["probe_seeds"]), settings["test_fraction"],
                      settings["max_iter"])
    write_tsv(snakemake.output.table, rows, COLUMNS)
    plot_probe_accuracy(snakemake.output.table, snakemake.output.png, snakemake.output.pdf)
