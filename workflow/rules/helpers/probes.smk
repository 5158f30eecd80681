# What workflow/rules/probes.smk needs beyond common.smk: the functions and constants its rules take.

CONCEPT_TABLES = ["concepts", "overlap", "shared", "cross_lingual_ap"]
INTERVENTION_TABLES = ["intervention", "lexicon"]


def probe_settings():
    """The probes settings that change the token sample and the responses (the capture job's params)."""
    probes = config["probes"]
    return {
        **{
            key: probes[key]
            for key in ("max_samples", "seed", "tokens_per_language", "neurons")
        },
        "words": probes["concepts"]["words"],
        "response": probes["concepts"]["response"],
    }


def probe_targets():
    dataset = config["probes"]["dataset"]
    if dataset is None:
        return []
    intervention = bool(config["probes"]["intervention"]["concepts"])
    return [
        *for_each(PROBE_SUMMARY, [dataset]),
        *for_each(PROBE_SUMMARY_PAGE, [dataset]),
        *for_each(LANGUAGE_ID_FIGURE, [dataset], ext=EXTS),
        *(for_each(INTERVENTION_JSONL, [dataset]) if intervention else []),
        *for_each(
            CONCEPT_TABLE, [dataset], table=INTERVENTION_TABLES if intervention else []
        ),
    ]
