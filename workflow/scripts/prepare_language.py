"""Write one language of a dataset as resources/data/{dataset}/{lang}.jsonl, with the ids its loader gave beside it
(see linguafranca.data.prepare)."""
from linguafranca.data.prepare import prepare_language
from linguafranca.pipeline.joblog import job_log

with job_log(snakemake.log[0]):
    prepare_language(
        snakemake.wildcards.dataset,
        snakemake.params.spec,
        snakemake.wildcards.lang,
        snakemake.params.samples,
        snakemake.output.text,
        snakemake.output.ids,
    )
