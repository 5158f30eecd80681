"""jobs: combined: one capture and one deactivation job per point, with the split jobs' numbers."""


from tests.helpers.paths import REPO
from tests.helpers.tiny import save_tiny
from tests.helpers.workflow import (
    changed_config,
    copy_code,
    job,
    planned_jobs,
    report_results,
    snakemake,
    write_config,
)


def test_combined_jobs_capture_and_deactivate_in_one_job_each(tmp_path):
    """jobs: combined plans one capture job for every language and one deactivation job for every region condition
    (none and random keep their own, threshold-free, shared with every table); split, the default, one per language
    and per condition."""
    code = copy_code(REPO, tmp_path / "code")
    model_dir = save_tiny("llama", tmp_path / "tiny-llama")
    config = write_config(tmp_path, model_dir)
    combined = changed_config(config, "combined.yaml", lambda c: c["models"]["tiny"].update(jobs="combined"))
    planned = planned_jobs(tmp_path, code, combined)
    assert job("capture_combined", dataset="toy") in planned
    assert job("ablation_combined", dataset="held_out", regions_dataset="toy", threshold="1") in planned
    assert job("ablation_baseline", dataset="held_out") in planned
    assert job("ablation_random", dataset="held_out") in planned
    assert job("reasoning_combined", task="bible", regions_dataset="toy", threshold="1") in planned
    assert {job("reasoning_baseline", task="bible"), job("reasoning_random", task="bible")} <= planned
    assert job("figures_combined", dataset="toy") in planned
    one_figure = {"figure_similarity", "figure_lrds_sads", "figure_region_layers", "figure_region_sizes"}
    assert not {rule for rule, _ in planned} & {"capture", "ablation_condition", "reasoning_condition", *one_figure}
    split = {rule for rule, _ in planned_jobs(tmp_path, code, config)}
    assert {"capture", "ablation_condition", "reasoning_condition", *one_figure} <= split
    assert not split & {"capture_combined", "ablation_combined", "reasoning_combined", "figures_combined"}


def test_combined_jobs_give_the_split_jobs_numbers(finished_run, tmp_path):
    """The same tables from one job per stage as from one job per language and condition."""
    reference, config, code = finished_run
    combined = changed_config(config, "combined.yaml", lambda c: c["models"]["tiny"].update(jobs="combined"))
    workdir = tmp_path / "combined"
    workdir.mkdir()
    tables = ["reasoning/regions-toy/z1/accuracy.tsv", "held_out/ablation/regions-toy/z1/perplexity.tsv"]
    figures = [f"toy/figures/{name}.{ext}" for name in ("similarity", "lrds_sads", "regions_z1_layers", "regions_z1_sizes")
               for ext in ("png", "pdf")]
    run = snakemake(workdir, code, "--configfile", str(combined), "--cores", "2",
                    *[f"results/tiny/main/{path}" for path in tables + figures])
    assert run.returncode == 0, run.stderr[-3000:]
    for table in tables:
        assert (workdir / "results/tiny/main" / table).read_text() == (
            reference / "results/tiny/main" / table).read_text(), table
    for figure in figures:  # the same drawing functions on the same numbers: PNGs of the same size
        made, expected = workdir / "results/tiny/main" / figure, reference / "results/tiny/main" / figure
        assert made.stat().st_size > 0 and (figure.endswith(".pdf") or made.read_bytes() == expected.read_bytes())
    # The report holds figures_combined's figures where the split jobs put theirs (it had none of them before).
    report = workdir / "report.html"
    built = snakemake(workdir, code, "--configfile", str(combined), "--report", str(report),
                      *[f"results/tiny/main/{path}" for path in tables + figures])
    assert built.returncode == 0, built.stderr[-3000:]
    results, categories = report_results(report.read_text(encoding="utf-8"))
    placed = {path: (category, sub) for category, subs in categories.items() for sub, paths in subs.items()
              for path in paths}
    assert {path: placed.get(path) for path in results if "/figures/" in path} == {
        "results/tiny/main/toy/figures/similarity.png": ("1. Similarity (paper 3.1-3.2)", "Fig. 2: similarity map"),
        "results/tiny/main/toy/figures/lrds_sads.png": ("1. Similarity (paper 3.1-3.2)",
                                                        "Fig. 3: LRDS and SADS per layer"),
        "results/tiny/main/toy/figures/regions_z1_layers.png": ("2. Key linguistic regions (paper 3.3)",
                                                                "Fig. 5: key neurons per layer"),
        "results/tiny/main/toy/figures/regions_z1_sizes.png": ("2. Key linguistic regions (paper 3.3)",
                                                               "Fig. 6: region sizes"),
    }
