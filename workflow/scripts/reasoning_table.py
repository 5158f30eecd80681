"""accuracy.tsv and its figure from the reasoning jobs' lm-eval results (see linguafranca.reasoning)."""
from linguafranca.joblog import job_log
from linguafranca.plots import plot_reasoning
from linguafranca.reasoning import accuracy_rows, write_accuracy

with job_log(snakemake.log[0]):
    params, out = snakemake.params, snakemake.output
    paths = iter(snakemake.input.results)
    results = {task: {condition: next(paths) for condition in params.conditions} for task in params.tasks}
    rows, columns = accuracy_rows(results, params.conditions, params.langs)
    write_accuracy(out.tsv, rows, columns)
    plot_reasoning(out.tsv, out.png, out.pdf)
