"""Write one dataset's parallel text as resources/data/{dataset}/{lang}.jsonl (see linguafranca.data)."""
from pathlib import Path

from linguafranca.data.prepare import prepare_dataset
from linguafranca.pipeline.joblog import job_log

with job_log(snakemake.log[0]):
    prepare_dataset(
        snakemake.wildcards.dataset,
        snakemake.params.spec,
        snakemake.params.languages,
        snakemake.params.samples,
        Path(snakemake.output[0]).parent,
    )
