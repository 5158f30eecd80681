"""Check a dataset's prepared languages as a set (parallel ids, no two languages with the same text) and write the
set's record resources/data/{dataset}/languages.json (see linguafranca.data.prepare)."""
from linguafranca.data.prepare import check_prepared_set
from linguafranca.pipeline.joblog import job_log

with job_log(snakemake.log[0]):
    langs = snakemake.params.languages
    check_prepared_set(
        snakemake.wildcards.dataset,
        snakemake.params.spec,
        dict(zip(langs, snakemake.input.texts, strict=True)),
        dict(zip(langs, snakemake.input.ids, strict=True)),
        snakemake.output[0],
    )
