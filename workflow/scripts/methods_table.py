"""Every selection method side by side (see linguafranca.analysis.method_comparison): methods.tsv, the per-neuron
table, the masks as safetensors (and in LAPE's layout when asked), the figure and, with romanised languages, the
script control's overlaps."""
from linguafranca.analysis.mask_export import write_lape_layout, write_safetensors
from linguafranca.analysis.method_comparison import (
    NEURON_COLUMNS,
    SCRIPT_COLUMNS,
    load_method_regions,
    method_columns,
    method_rows,
    neuron_rows,
    script_rows,
)
from linguafranca.data.scripts import latin_languages
from linguafranca.figures.methods import plot_methods
from linguafranca.io.html_table import write_tsv_page
from linguafranca.io.tsv import write_tsv
from linguafranca.pipeline.joblog import job_log
from linguafranca.pipeline.paths import store_of

with job_log(snakemake.log[0]):
    out, params, wildcards = snakemake.output, snakemake.params, snakemake.wildcards
    methods = params.methods
    results = load_method_regions(store_of(snakemake.input.regions), store_of(snakemake.input.methods),
                                  methods, params.langs)
    rows = method_rows(results, params.langs)
    write_tsv(out.table, rows, method_columns(methods))
    write_tsv(out.neurons, neuron_rows(results, params.langs), NEURON_COLUMNS)
    masks = {method: result.mask for method, result in results.items()}
    point = f"{wildcards.model} @ {wildcards.revision} on {wildcards.dataset}"
    write_safetensors(out.safetensors, masks, params.langs,
                      {"model": wildcards.model, "revision": wildcards.revision, "dataset": wildcards.dataset,
                       "threshold": wildcards.threshold, "langs": ",".join(params.langs)})
    if "lape_layout" in out.keys():
        write_lape_layout(out.lape_layout, masks)
    if "script" in out.keys():
        write_tsv(out.script, script_rows(results, params.langs, params.romanised, latin_languages(params.langs)),
                  SCRIPT_COLUMNS)
    write_tsv_page(out.table, out.page, f"Selection methods side by side: {point}, z > {wildcards.threshold}")
    plot_methods(rows, out.png, out.pdf, title=f"Selection methods side by side: {point}, z > {wildcards.threshold}")
