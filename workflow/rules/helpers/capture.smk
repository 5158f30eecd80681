# What workflow/rules/capture.smk needs beyond common.smk: the functions and constants its rules take.


def capture_settings(wildcards):
    """The model settings that change captured numbers (batch size and device do not, beyond rounding)."""
    spec = model_spec(wildcards)
    return {key: spec[key] for key in ("max_length", "bos", "mean_over")}
