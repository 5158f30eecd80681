# linguafranca: how multilingual language models organise languages in their MLP neurons.
# Entry point only: the rule files hold the stages, linguafranca/ holds the logic.
import sys
from pathlib import Path

from snakemake.utils import min_version

from linguafranca.io.atomic import check_writable
from linguafranca.errors import LinguaFrancaError

min_version("9.0")


report: "workflow/report/workflow.rst"


# A --configfile on the command line replaces the default config (no silent merging of model lists);
# --config key=value still adjusts the default.
if not workflow.overwrite_configfiles:

    configfile: Path(workflow.basedir) / "config" / "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/inputs.smk"
include: "workflow/rules/sandbox.smk"
include: "workflow/rules/capture.smk"
include: "workflow/rules/similarity.smk"
include: "workflow/rules/regions.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/ablation.smk"
include: "workflow/rules/reasoning.smk"
include: "workflow/rules/probes.smk"
include: "workflow/rules/series.smk"


rule all:
    default_target: True
    input:
        all_targets(),


onstart:
    # A read-only folder, or a file where a folder is needed, stops the run here with one message, before any job
    # starts, instead of a traceback from the job followed by one from Snakemake's own cleanup.
    try:
        check_writable(
            path
            for job in workflow.dag.needrun_jobs()
            for path in (*job.output, *job.log, *filter(None, [job.benchmark]))
        )
    except LinguaFrancaError as error:
        sys.exit(f"linguafranca: {error}")
