# linguafranca: how multilingual language models organise languages in their MLP neurons.
# Entry point only: the rule files hold the stages, linguafranca/ holds the logic.
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")


# A --configfile on the command line replaces the default config (no silent merging of model lists);
# --config key=value still adjusts the default.
if not workflow.overwrite_configfiles:

    configfile: Path(workflow.basedir) / "config" / "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/resources.smk"
include: "workflow/rules/capture.smk"
include: "workflow/rules/similarity.smk"
include: "workflow/rules/regions.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/ablation.smk"


rule all:
    default_target: True
    input:
        all_targets(),
