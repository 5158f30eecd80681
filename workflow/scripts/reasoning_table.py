"""accuracy.tsv and its figure from the reasoning jobs' lm-eval results (see linguafranca.reasoning)."""
from linguafranca.figures.reasoning import plot_reasoning
from linguafranca.io.html_table import write_tsv_page
from linguafranca.pipeline.joblog import job_log
from linguafranca.reasoning.tables import accuracy_rows, write_accuracy

with job_log(snakemake.log[0]):
    params, out = snakemake.params, snakemake.output
    # Conditions with no language of a task family have no result (XStoryCloze's fr, pt, vi): their cells are empty.
    results = {task: {} for task in params.tasks}
    for (task, condition), path in zip(params.jobs, snakemake.input.results, strict=True):
        results[task][condition] = path
    rows, columns = accuracy_rows(results, params.conditions, params.langs)
    write_accuracy(out.tsv, rows, columns)
    wildcards = snakemake.wildcards
    point = (f"{wildcards.model} @ {wildcards.revision}, regions of {wildcards.regions_dataset}"
             f" at z > {wildcards.threshold}")
    write_tsv_page(out.tsv, out.page, f"Reasoning accuracy per condition: {point}")
    plot_reasoning(out.tsv, out.png, out.pdf)
