"""Table 1: perplexity per condition, % increase over none, diagonal dominance, heatmap (see linguafranca.ablation);
with romanised languages, the script control's deactivation table."""
from linguafranca.ablation.conditions import BASELINE, RANDOM, condition_list, is_method_condition, method_condition_name
from linguafranca.ablation.deactivation import gather, write_dominance
from linguafranca.ablation.script_control import write_script_deactivation
from linguafranca.data.scripts import latin_languages
from linguafranca.figures.ablation import plot_increase
from linguafranca.io.html_table import write_tsv_page
from linguafranca.io.manifest import regions_provenance
from linguafranca.io.methods_store import read_methods
from linguafranca.io.regions_store import read_regions
from linguafranca.pipeline.joblog import job_log
from linguafranca.pipeline.paths import store_of

with job_log(snakemake.log[0]):
    out, params = snakemake.output, snakemake.params
    conditions = condition_list(
        params.langs,
        matched_random_on_all_languages=params.matched_random_on_all_languages,
        significant_regions=params.significant_regions,
        methods=params.methods,
        methods_full_matrix=params.methods_full_matrix,
    )
    # none and random come from their threshold-free jobs, the regions and their controls from this folder's, the
    # other methods' from the methods folder.
    regional = [c.name for c in conditions if c.name not in (BASELINE, RANDOM) and not is_method_condition(c)]
    tsvs = {BASELINE: snakemake.input.baseline, RANDOM: snakemake.input.random,
            **dict(zip(regional, snakemake.input.conditions, strict=True)),
            **{method_condition_name(path): path for path in snakemake.input.method_conditions}}
    wildcards = snakemake.wildcards
    expected = regions_provenance(wildcards.model, wildcards.revision, wildcards.regions_dataset, wildcards.threshold)
    regions = read_regions(store_of(snakemake.input.regions[0]), *expected)
    methods = read_methods(store_of(snakemake.input.methods[0]), *regions_provenance(
        wildcards.model, wildcards.revision, wildcards.regions_dataset, None))
    table = gather(tsvs, conditions, regions, out.perplexity, out.increase, methods)
    write_dominance(out.dominance, table)
    if "script" in out.keys():
        prefixes = {"zscore": "", **{method: f"{method}_" for method in params.methods}}
        write_script_deactivation(out.script, table, prefixes, params.romanised, latin_languages(params.langs))
    point = (f"{wildcards.model} @ {wildcards.revision} on {wildcards.dataset}, regions of {wildcards.regions_dataset}"
             f" at z > {wildcards.threshold}")
    for tsv, page, what in ((out.perplexity, out.perplexity_page, "Perplexity per condition"),
                            (out.increase, out.increase_page, "Table 1: perplexity increase (%)"),
                            (out.dominance, out.dominance_page, "Diagonal dominance")):
        write_tsv_page(tsv, page, f"{what}: {point}")
    plot_increase(table, out.png, out.pdf, title=f"Perplexity increase (%)\n{point}")
