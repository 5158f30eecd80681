"""Resolve one (model, revision) into a local folder and a manifest (see linguafranca.model.loading)."""
from pathlib import Path

from linguafranca.io.manifest import write_manifest
from linguafranca.model.resolve import resolve_model
from linguafranca.pipeline.joblog import job_log

with job_log(snakemake.log[0]):
    out = Path(snakemake.output[0])
    write_manifest(resolve_model(snakemake.params.spec, snakemake.wildcards.revision, out.parent), out)
