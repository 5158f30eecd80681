"""Language-ID probes per layer on the token sample, with their chance rows and figure (see linguafranca.probes)."""
from linguafranca.io.tsv import write_tsv
from linguafranca.joblog import job_log, set_threads
from linguafranca.plots import plot_probe_accuracy
from linguafranca.probes import COLUMNS, probe_rows, read_probe_inputs

with job_log(snakemake.log[0]):
    set_threads(snakemake.threads)
    settings = snakemake.params.settings
    layers, langs, sample_ids = read_probe_inputs(snakemake.input.tokens, snakemake.params.langs)
    rows = probe_rows(layers, langs, sample_ids, range(settings["probe_seeds"]), settings["test_fraction"],
                      settings["max_iter"])
    write_tsv(snakemake.output.table, rows, COLUMNS)
    plot_probe_accuracy(snakemake.output.table, snakemake.output.png, snakemake.output.pdf)
