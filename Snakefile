# linguafranca: how multilingual language models organise languages in their MLP neurons.
# Entry point only: the rule files hold the stages, linguafranca/ holds the logic.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/resources.smk"
include: "workflow/rules/capture.smk"


rule all:
    default_target: True
    input:
        all_targets(),
