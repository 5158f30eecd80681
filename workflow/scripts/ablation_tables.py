"""Table 1: perplexity per condition, % increase over none, diagonal dominance, heatmap (see linguafranca.ablation)."""
from linguafranca.ablation import gather, write_dominance
from linguafranca.plots import plot_increase
from linguafranca.joblog import job_log

with job_log(snakemake.log[0]):
    out = snakemake.output
    tsvs = dict(zip(snakemake.params.conditions, snakemake.input.conditions))
    table = gather(tsvs, snakemake.input.regions[0], out.perplexity, out.increase)
    write_dominance(out.dominance, table)
    plot_increase(table, out.png, out.pdf, title=f"{snakemake.wildcards.model}: perplexity increase (%)")
