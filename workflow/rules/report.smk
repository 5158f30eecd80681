# What `snakemake --report report.html` shows: each figure and table under the paper section it belongs to, one row
# per (model, revision, dataset), with a caption from workflow/report/. Rule files wrap their outputs in report().

REPORT_SIMILARITY = "Similarity (paper 3.1-3.2)"
REPORT_REGIONS = "Key linguistic regions (paper 3.3)"
REPORT_ABLATION = "Deactivation (paper 4.3, Table 1)"
REPORT_GENERATION = "Generation with a region off (Appendix A)"
REPORT_REASONING = "Cross-lingual reasoning (lm-eval, Appendix B)"
REPORT_LABELS_MODEL = {"model": "{model}", "revision": "{revision}"}
REPORT_LABELS = {"model": "{model}", "revision": "{revision}", "dataset": "{dataset}"}
REPORT_LABELS_THRESHOLD = {**REPORT_LABELS, "threshold": "{threshold}"}
