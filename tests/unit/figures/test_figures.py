"""Smoke tests of the figures: each writes a valid, non-empty PNG and PDF and leaves no temporary behind."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from linguafranca.analysis.regions import (
    RegionsResult,
    key_masks,
    matched_random_masks,
    random_mask,
    write_regions,
    zscores,
)
from linguafranca.analysis.similarity import write_metrics, write_similarity
from linguafranca.figures.analysis import plot_lrds_sads, plot_region_layers, plot_region_sizes, plot_similarity_heatmap
from tests.helpers.stores import write_stores

LANGS = ["eng_Latn", "deu_Latn", "fra_Latn", "zho_Hans", "jpn_Jpan", "arb_Arab", "rus_Cyrl", "hin_Deva", "swh_Latn"]
N_SAMPLES, N_LAYERS, N_NEURONS = 12, 16, 40


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Similarity h5, metrics TSV and regions Zarr of 9 languages with language and meaning structure."""
    directory = tmp_path_factory.mktemp("figures")
    rng = np.random.default_rng(0)
    shape = (N_LAYERS, N_NEURONS)
    language = rng.standard_normal((len(LANGS), 1, *shape)) * np.linspace(1.5, 0.2, N_LAYERS)[:, None]
    meaning = rng.standard_normal((1, N_SAMPLES, *shape)) * np.linspace(0.2, 1.5, N_LAYERS)[:, None]
    means = 2 + language + meaning + 0.3 * rng.standard_normal((len(LANGS), N_SAMPLES, *shape))
    stores = write_stores(
        directory / "stores",
        means.astype(np.float32),
        LANGS,
        sample_ids=[f"verse{i}" for i in range(N_SAMPLES)],
        attrs={"model": "tiny-model", "revision": "main", "dataset": "toy"},
    )
    similarity = write_similarity(stores, directory / "similarity.h5")
    write_metrics(similarity, directory / "metrics.tsv")
    contribution = rng.standard_normal((len(LANGS), *shape)) ** 3
    zscore = zscores(contribution)
    regions = RegionsResult(
        langs=LANGS,
        contribution=contribution,
        zscore=zscore,
        mask=key_masks(zscore, 2.0),
        random_mask=random_mask(shape, 0.1, 0),
        random_masks_per_language=matched_random_masks(key_masks(zscore, 2.0), 0),
        threshold=2.0,
        random_fraction=0.1,
        seed=0,
        n_samples=N_SAMPLES,
    )
    write_regions(regions, directory / "regions.zarr")
    null_count = rng.integers(0, 4, (10, len(LANGS), N_LAYERS))
    with_null = dataclasses.replace(regions, null_permutations=10, significance_permutations=100,
                                    null_count=null_count, pvalue=np.ones(shape=(len(LANGS), *shape)) / 2,
                                    significant=regions.mask & (zscore > 2.5),
                                    random_masks_significant=regions.random_masks_per_language)
    write_regions(with_null, directory / "regions_null.zarr")
    return directory


@pytest.mark.parametrize(
    "plot, source",
    [
        (plot_similarity_heatmap, "similarity.h5"),
        (plot_lrds_sads, "metrics.tsv"),
        (plot_region_layers, "regions.zarr"),
        (plot_region_sizes, "regions.zarr"),
        (plot_region_layers, "regions_null.zarr"),
        (plot_region_sizes, "regions_null.zarr"),
    ],
)
def test_figure_is_written_as_png_and_pdf(outputs, plot, source):
    figures = outputs / plot.__name__ / source
    png, pdf = figures / "figure.png", figures / "figure.pdf"
    plot(outputs / source, png, pdf)
    assert sorted(p.name for p in figures.iterdir()) == ["figure.pdf", "figure.png"]
    png_bytes, pdf_bytes = png.read_bytes(), pdf.read_bytes()
    assert png_bytes.startswith(b"\x89PNG\r\n\x1a\n") and len(png_bytes) > 10_000
    assert pdf_bytes.startswith(b"%PDF-") and pdf_bytes.rstrip().endswith(b"%%EOF")


@pytest.mark.parametrize("plot", [plot_region_layers, plot_region_sizes])
def test_figures_5_and_6_draw_the_null_and_the_significant_neurons(outputs, plot, tmp_path):
    """Same key regions, one store with a null and significance: the pictures differ, so both are drawn."""
    pictures = []
    for source in ("regions.zarr", "regions_null.zarr"):
        plot(outputs / source, tmp_path / f"{source}.png", tmp_path / f"{source}.pdf")
        pictures.append((tmp_path / f"{source}.png").read_bytes())
    assert pictures[0] != pictures[1]


def _drawn(monkeypatch, plot, *args, **kwargs):
    """The Figure a plot function would save."""
    import linguafranca.figures.analysis as analysis

    captured = []
    monkeypatch.setattr(analysis, "save_figure", lambda fig, png, pdf: captured.append(fig))
    plot(*args, "unused.png", "unused.pdf", **kwargs)
    (fig,) = captured
    return fig


LABELS = {"model": "tiny-model", "revision": "step64", "dataset": "toy"}


def test_every_layer_of_figure_5_is_one_wide_the_edge_layers_too(outputs, monkeypatch):
    fig = _drawn(monkeypatch, plot_region_layers, outputs / "regions_null.zarr", labels=LABELS)
    ax = fig.axes[0]
    stairs = [artist for artist in ax.patches if type(artist).__name__ == "StepPatch"]
    edges = stairs[0].get_data().edges
    np.testing.assert_array_equal(edges, np.arange(N_LAYERS + 1) - 0.5)
    assert ax.get_xlim() == (-0.5, N_LAYERS - 0.5)
    assert all(float(tick).is_integer() for tick in ax.get_xticks())
    assert fig._suptitle.get_text().endswith("\ntiny-model @ step64, toy")


def test_figure_3_has_integer_layer_ticks_and_names_the_run(outputs, monkeypatch):
    fig = _drawn(monkeypatch, plot_lrds_sads, outputs / "metrics.tsv", labels=LABELS)
    ax = fig.axes[0]
    assert all(float(tick).is_integer() for tick in ax.get_xticks())
    assert ax.get_title() == "Language relevance (LRDS) and semantic alignment (SADS) by layer\ntiny-model @ step64, toy"


def test_figure_6_labels_sit_above_the_null_marker(outputs, monkeypatch):
    from linguafranca.io.regions_store import read_regions

    fig = _drawn(monkeypatch, plot_region_sizes, outputs / "regions_null.zarr")
    ax = fig.axes[0]
    regions = read_regions(outputs / "regions_null.zarr")
    high = np.percentile(regions.null_count.sum(axis=2), 95, axis=0)
    sizes = regions.mask.sum(axis=(1, 2))
    texts = [text for text in ax.texts if "%" in text.get_text()]
    assert len(texts) == len(LANGS)
    for text, size, top in zip(texts, sizes, high):
        assert text.get_position()[1] > max(size, top) and text.get_text().startswith(f"{size:,}\n")
    assert "\n" not in ax.get_title()  # this store records no model and no labels were given: no second line


@pytest.mark.parametrize("plot", [plot_region_sizes, plot_region_layers])
def test_figures_5_and_6_name_the_run_on_a_second_line(outputs, monkeypatch, plot):
    fig = _drawn(monkeypatch, plot, outputs / "regions_null.zarr", labels=LABELS)
    titles = [ax.get_title() for ax in fig.axes] + [fig._suptitle.get_text() if fig._suptitle else ""]
    assert any(title.endswith("\ntiny-model @ step64, toy") for title in titles), titles


@pytest.mark.parametrize(
    ("increase", "text"),
    [(1215564.4, "1,215,564"), (74.6, "75"), (10.0, "10"), (3.44, "3.4"), (0.052, "0.052"), (-0.0071, "-0.0071"),
     (-0.4, "-0.4"), (0.0, "0"), (float("nan"), "")],
)
def test_heatmap_cells_show_small_effects(increase, text):
    from linguafranca.figures.ablation import cell_text

    assert cell_text(increase) == text


@pytest.mark.parametrize("plot", [plot_region_layers, plot_region_sizes])
def test_an_empty_significant_region_draws_no_significant_legend_entry(outputs, monkeypatch, plot):
    import dataclasses

    import linguafranca.figures.analysis as analysis
    from linguafranca.io.regions_store import read_regions

    def legend(fig):
        legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
        return [text.get_text() for found in legends for text in found.get_texts()]

    assert "significant (BH)" in legend(_drawn(monkeypatch, plot, outputs / "regions_null.zarr"))
    stored = read_regions(outputs / "regions_null.zarr")
    nothing = dataclasses.replace(stored, significant=np.zeros_like(stored.significant))
    monkeypatch.setattr(analysis, "read_regions", lambda path: nothing)
    names = legend(_drawn(monkeypatch, plot, outputs / "regions_null.zarr"))
    assert "significant (BH)" not in names and any(name.startswith("shuffled labels") for name in names)


def test_heatmap_names_the_run_and_its_region_labels_do_not_overlap(monkeypatch):
    """Eight regions and controls side by side (the tick labels carry each size): no two labels may overlap."""
    import linguafranca.figures.ablation as ablation
    from linguafranca.ablation.deactivation import IncreaseTable

    captured = []
    monkeypatch.setattr(ablation, "save_figure", lambda fig, png, pdf: captured.append(fig))
    langs = ["en", "zh", "pt-BR"]
    regions = ["random", *langs, *(f"random_{lang}" for lang in langs)]
    increase = np.full((len(langs), len(regions)), np.nan)
    increase[:, :4] = [[3.4, 75326.4, 0.052, -0.0071]] * len(langs)
    table = IncreaseTable(langs, regions, increase, np.arange(1, len(regions) + 1) * 1000,
                          np.linspace(1.0, 25.93, len(regions)))
    title = "Perplexity increase (%)\ntiny @ main on held_out, regions of toy at z > 1"
    ablation.plot_increase(table, "unused.png", "unused.pdf", title=title)
    (fig,) = captured
    ax = fig.axes[0]
    assert ax.get_title() == title
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = [label.get_window_extent(renderer) for label in ax.get_xticklabels()]
    assert len(boxes) == len(regions)
    assert not [(a, b) for a in range(len(boxes)) for b in range(a + 1, len(boxes)) if boxes[a].overlaps(boxes[b])]
