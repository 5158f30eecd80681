"""Resolve one (model, revision) into a local folder and a manifest (see linguafranca.models)."""
from pathlib import Path

from linguafranca.joblog import job_log
from linguafranca.models import resolve_model, write_manifest

with job_log(snakemake.log[0]):
    out = Path(snakemake.output[0])
    write_manifest(resolve_model(snakemake.params.spec, snakemake.wildcards.revision, out.parent), out)
