# What workflow/rules/regions.smk needs beyond common.smk: the methods and the outputs of their comparison.
from linguafranca.data.scripts import romanised_pairs

# Romanised languages with their base language in the run ({romanised: base}): the script control's rows.
ROMANISED = romanised_pairs(LANGS)


def methods_table_patterns():
    """The plain output patterns of the methods_table rule (the LAPE layout only when asked for, the script control
    only with a romanised language whose base language is in the run)."""
    patterns = dict(
        table=METHODS_TABLE,
        neurons=METHOD_NEURONS,
        safetensors=MASKS_SAFETENSORS,
        page=METHODS_PAGE,
        png=with_ext(METHODS_FIGURE, "png"),
        pdf=with_ext(METHODS_FIGURE, "pdf"),
    )
    if config["regions"]["export_lape_layout"]:
        patterns["lape_layout"] = LAPE_LAYOUT
    if ROMANISED:
        patterns["script"] = SCRIPT_OVERLAP
    return patterns


def methods_table_outputs():
    """The outputs of the methods_table rule (the patterns above, with the page and figure in the report and the
    LAPE layout as a folder)."""
    outputs = methods_table_patterns()
    outputs.update(
        page=in_report(
            METHODS_PAGE,
            caption="../report/methods.rst",
            category=REPORT_REGIONS,
            subcategory="Methods side by side",
            labels=REPORT_LABELS_THRESHOLD,
        ),
        png=in_report(
            with_ext(METHODS_FIGURE, "png"),
            caption="../report/methods_figure.rst",
            category=REPORT_REGIONS,
            subcategory="Methods figure",
            labels=REPORT_LABELS_THRESHOLD,
        ),
    )
    if "lape_layout" in outputs:
        outputs["lape_layout"] = directory(LAPE_LAYOUT)
    return outputs


def methods_targets():
    """What the all rule asks of the methods (the comparison of every analysis dataset)."""
    datasets = analysis_datasets(config)
    return [
        path
        for pattern in methods_table_patterns().values()
        for path in for_each(pattern, datasets, threshold=THRESHOLD)
    ]
