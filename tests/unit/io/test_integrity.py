"""A damaged store is never read as data: every stage that reads a store stops on a missing or changed chunk.

Zarr returns the fill value for a missing chunk, so without checksums a deleted chunk file reads as zeros. Each
case below damages one chunk (or HDF5 dataset) and runs every reader of that store: each must stop with the
message that names the store, the chunk and the command that rebuilds it.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import h5py
import numpy as np
import pytest
import zarr

from linguafranca.ablation.conditions import condition_list, condition_mask
from linguafranca.ablation.deactivation import gather, write_condition
from linguafranca.ablation.perplexity import PerplexityResult
from linguafranca.analysis.regions import NullSettings, RegionsResult, compute_regions, write_regions
from linguafranca.analysis.similarity import compute_similarity, write_similarity
from linguafranca.errors import LinguaFrancaError
from linguafranca.figures.analysis import plot_region_layers, plot_region_sizes, plot_similarity_heatmap
from linguafranca.io.activations import open_activations, open_stores, read_layer
from linguafranca.io.checksummed import CHUNK_CHECKSUMS, DATASET_CHECKSUM, checksum, record_checksum, write_dataset
from linguafranca.io.regions_store import read_regions
from linguafranca.io.similarity_file import read_norms
from tests.helpers.stores import write_stores

LANGS = ["en", "fr", "zh"]
N_SAMPLES, N_LAYERS, N_NEURONS, BLOCK = 5, 3, 8, 2


def damaged(kind: str, store: Path, chunk: str) -> str:
    """The message every reader gives: store, chunk, and how to rebuild it."""
    return rf"{kind} '{re.escape(str(store))}' is damaged: {re.escape(chunk)}.*rm -r '{re.escape(str(store))}'"


def flip_byte(path: Path, offset: int | None = None) -> None:
    """Change one byte of a file (the middle one unless ``offset`` is given)."""
    data = bytearray(path.read_bytes())
    offset = len(data) // 2 if offset is None else offset
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def damage_chunk(store: Path, array: str, key: str, damage: str, index: tuple[int, ...]) -> str:
    """Damage one chunk; returns what the message says of it.

    ``flipped byte``: a byte in the middle of the compressed chunk file (decodes to other values);
    ``broken encoding``: the first byte (Zstandard's frame magic, so it no longer decodes);
    ``rewritten value``: value ``index`` changed through Zarr, the chunk file stays well-formed.
    """
    if damage == "rewritten value":
        rewrite_value(store, array, index)
    else:
        flip_byte(store / array / key, 0 if damage == "broken encoding" else None)
    return "cannot be decoded" if damage == "broken encoding" else "does not match the checksum recorded"


DAMAGES = ["flipped byte", "broken encoding", "rewritten value"]


def rewrite_value(store: Path, array: str, index: tuple[int, ...]) -> None:
    """Change one value through Zarr itself: the chunk stays well-formed, only its value differs."""
    target = zarr.open_array(str(store / array), mode="r+")
    target[index] = target[index] + 1


# ---------------------------------------------------------------------------------------------------------------
# Checksums themselves
# ---------------------------------------------------------------------------------------------------------------


def test_checksum_is_crc32_of_little_endian_values_and_chains_over_pieces():
    values = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert checksum(values) == zlib.crc32(values.astype("<f4").tobytes())
    assert checksum(values[:, 1]) == zlib.crc32(np.ascontiguousarray(values[:, 1]).tobytes())  # strided input
    assert checksum(values.astype(">f4")) == checksum(values)  # byte order of the input does not matter
    assert checksum(values[1:], checksum(values[:1])) == checksum(values)  # layer-by-layer writers chain it
    assert checksum(np.array(["en", "zé"], dtype=object)) == zlib.crc32("en\0zé\0".encode())
    assert checksum(np.array(["ab", "c"], dtype=object)) != checksum(np.array(["a", "bc"], dtype=object))


def test_every_chunk_is_recorded_and_written_even_when_all_zero(tmp_path):
    means = np.zeros((2, N_SAMPLES, N_LAYERS, N_NEURONS), dtype=np.float32)
    means[:, :, 0] = 1  # layers 1 and 2 hold only the fill value
    store = write_stores(tmp_path, means, ["en", "fr"], block=BLOCK)["en"]
    group = zarr.open_group(str(store), mode="r")
    recorded = group["mean"].attrs[CHUNK_CHECKSUMS]
    keys = {f"c/{b}/{layer}/0" for b in range(3) for layer in range(N_LAYERS)}
    assert set(recorded) == keys and all((store / "mean" / key).is_file() for key in keys)
    assert recorded["c/2/1/0"] == checksum(np.zeros((1, N_NEURONS), dtype=np.float32))  # the short last block
    assert set(group["n_tokens"].attrs[CHUNK_CHECKSUMS]) == {"c/0"}
    np.testing.assert_array_equal(read_layer(store, 0), means[0, :, 0])


def test_empty_region_is_not_taken_for_damage(tmp_path):
    mask = np.zeros((2, 2, 4), dtype=bool)
    mask[0, 1, 2] = True  # the second language's region is empty: its chunk holds only the fill value
    result = RegionsResult(["en", "fr"], np.zeros(mask.shape), np.zeros(mask.shape), mask,
                           np.zeros((2, 4), dtype=bool), np.zeros(mask.shape, dtype=bool), 1.0, 0.0, 0, 3)
    write_regions(result, tmp_path / "r.zarr")
    stored = read_regions(tmp_path / "r.zarr")
    np.testing.assert_array_equal(stored.mask, mask)
    assert not stored.random_mask.any() and not stored.random_mask_per_language.any()


# ---------------------------------------------------------------------------------------------------------------
# Activation stores: similarity and regions read them
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def activation_stores(tmp_path):
    means = np.random.default_rng(0).random((len(LANGS), N_SAMPLES, N_LAYERS, N_NEURONS), dtype=np.float32) + 0.5
    stores = write_stores(tmp_path / "activations", means, LANGS, block=BLOCK)
    return stores, means


def activation_readers(stores, tmp_path):
    """Every way a stage reads activation stores."""
    return {
        "similarity": lambda: compute_similarity(stores),
        "regions": lambda: compute_regions(stores, threshold=1.0),
        "regions with norms": lambda: compute_regions(
            stores, threshold=1.0, norms=np.ones(len(LANGS) * N_SAMPLES)),
        "read_layer": lambda: read_layer(stores["en"], 1),
    }


@pytest.mark.parametrize("reader", ["similarity", "regions", "regions with norms", "read_layer"])
def test_missing_chunk_stops_every_reader_before_any_work(activation_stores, tmp_path, reader):
    stores, _ = activation_stores
    (stores["en"] / "mean/c/1/1/0").unlink()  # samples 2-3 of layer 1
    chunk = "chunk 'mean/c/1/1/0' (sample 2-3, layer 1, neuron 0-7) is missing"
    with pytest.raises(LinguaFrancaError, match=damaged("activation store", stores["en"], chunk)):
        activation_readers(stores, tmp_path)[reader]()


@pytest.mark.parametrize("reader", ["similarity", "regions", "regions with norms", "read_layer"])
@pytest.mark.parametrize("damage", DAMAGES)
def test_changed_chunk_stops_every_reader(activation_stores, tmp_path, reader, damage):
    stores, _ = activation_stores
    problem = damage_chunk(stores["en"], "mean", "c/1/1/0", damage, (3, 1, 5))
    chunk = f"chunk 'mean/c/1/1/0' (sample 2-3, layer 1, neuron 0-7) {problem}"
    with pytest.raises(LinguaFrancaError, match=damaged("activation store", stores["en"], chunk)):
        activation_readers(stores, tmp_path)[reader]()


def test_damage_in_the_short_last_block_is_found(activation_stores):
    stores, _ = activation_stores
    rewrite_value(stores["fr"], "mean", (4, 2, 0))  # the short last block
    with pytest.raises(LinguaFrancaError, match=r"chunk 'mean/c/2/2/0' \(sample 4, layer 2, neuron 0-7\) does not "
                                                r"match the checksum recorded when it was written"):
        compute_similarity(stores)


def test_damaged_n_tokens_and_missing_checksums_are_refused(activation_stores):
    stores, _ = activation_stores
    (stores["zh"] / "n_tokens/c/0").unlink()
    with pytest.raises(LinguaFrancaError, match=damaged("activation store", stores["zh"], "chunk 'n_tokens/c/0'")):
        open_stores(stores)
    target = zarr.open_array(str(stores["fr"] / "mean"), mode="r+")
    del target.attrs[CHUNK_CHECKSUMS]
    with pytest.raises(LinguaFrancaError, match=r"activation store '.*fr.zarr' cannot be verified: array 'mean' "
                                                r"records no chunk checksums.*rm -r"):
        open_activations(stores["fr"])


def test_undamaged_stores_read_back_exactly(activation_stores):
    stores, means = activation_stores
    source = open_stores(stores)
    for layer, X in source.layers():
        np.testing.assert_array_equal(X, means[:, :, layer].reshape(-1, N_NEURONS).astype(np.float64))


# ---------------------------------------------------------------------------------------------------------------
# The regions store: deactivation, its tables, the figures and generation read it (all through read_regions)
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def regions_store(activation_stores, tmp_path):
    stores, _ = activation_stores
    path = tmp_path / "regions" / "z1.zarr"
    write_regions(compute_regions(stores, threshold=1.0), path)
    return path


def regions_readers(path: Path, tmp_path: Path):
    """Every stage's read of the regions store: condition masks (deactivation jobs and generation), the table
    gathering, and the two figures."""
    tsvs = {}
    conditions = condition_list(LANGS)
    for condition in conditions:
        tsvs[condition.name] = tmp_path / f"{condition.name}.tsv"
        results = {lang: PerplexityResult(2.0, 1.0, 1, 1) for lang in condition.evaluated}
        write_condition(tsvs[condition.name], condition.name, results)
    return {
        "condition_mask": lambda: condition_mask(path, "fr"),
        "matched control": lambda: condition_mask(path, "random_fr"),
        "tables": lambda: gather(tsvs, conditions, path, tmp_path / "ppl.tsv", tmp_path / "increase.tsv"),
        "figure layers": lambda: plot_region_layers(path, tmp_path / "l.png", tmp_path / "l.pdf"),
        "figure sizes": lambda: plot_region_sizes(path, tmp_path / "s.png", tmp_path / "s.pdf"),
    }


REGION_READERS = ["condition_mask", "matched control", "tables", "figure layers", "figure sizes"]


@pytest.mark.parametrize("reader", REGION_READERS)
@pytest.mark.parametrize(
    "array, key, where",
    [
        ("mask", "c/1/0/0", "lang 1, layer 0-2, neuron 0-7"),
        ("random_mask", "c/0/0", "layer 0-2, neuron 0-7"),
        ("random_mask_per_language", "c/2/0/0", "lang 2, layer 0-2, neuron 0-7"),
        ("zscore", "c/0/0/0", "lang 0, layer 0-2, neuron 0-7"),  # not read, but the store must be complete
    ],
)
def test_missing_regions_chunk_stops_every_reader(regions_store, tmp_path, reader, array, key, where):
    (regions_store / array / key).unlink()
    chunk = f"chunk '{array}/{key}' ({where}) is missing"
    with pytest.raises(LinguaFrancaError, match=damaged("regions store", regions_store, chunk)):
        regions_readers(regions_store, tmp_path)[reader]()
    assert not list(tmp_path.glob("*.png")) and not (tmp_path / "increase.tsv").exists()


@pytest.mark.parametrize("array, key", [("significant", "c/1/0/0"), ("random_mask_significant", "c/0/0/0"),
                                        ("null_count", "c/0/0/0"), ("pvalue", "c/2/0/0")])
def test_missing_chunk_of_the_chance_arrays_stops_the_readers(activation_stores, tmp_path, array, key):
    """A store written with a null and significance must hold those arrays whole, like the paper's."""
    stores, _ = activation_stores
    path = tmp_path / "regions" / "z1.zarr"
    write_regions(compute_regions(stores, threshold=1.0, null=NullSettings(5, 20)), path)
    assert read_regions(path).null_count.shape == (5, len(LANGS), N_LAYERS)
    (path / array / key).unlink()
    with pytest.raises(LinguaFrancaError, match=rf"chunk '{array}/{key}' \(.*\) is missing"):
        condition_mask(path, "fr")


@pytest.mark.parametrize("reader", REGION_READERS)
@pytest.mark.parametrize("damage", DAMAGES)
def test_changed_regions_chunk_stops_every_reader(regions_store, tmp_path, reader, damage):
    problem = damage_chunk(regions_store, "mask", "c/1/0/0", damage, (1, 2, 3))
    chunk = f"chunk 'mask/c/1/0/0' (lang 1, layer 0-2, neuron 0-7) {problem}"
    with pytest.raises(LinguaFrancaError, match=damaged("regions store", regions_store, chunk)):
        regions_readers(regions_store, tmp_path)[reader]()


# ---------------------------------------------------------------------------------------------------------------
# similarity.h5: regions (read_norms) and the heatmap read it
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def similarity_file(activation_stores, tmp_path):
    stores, _ = activation_stores
    path = tmp_path / "similarity.h5"
    write_similarity(stores, path, per_layer_maps=True)
    return path


def similarity_readers(path: Path, stores, tmp_path: Path):
    return {
        "read_norms": lambda: read_norms(path, LANGS),
        "regions": lambda: compute_regions(stores, threshold=1.0, norms=read_norms(path, LANGS)),
        "figure": lambda: plot_similarity_heatmap(path, tmp_path / "h.png", tmp_path / "h.pdf"),
    }


def test_every_dataset_records_its_checksum(similarity_file):
    with h5py.File(similarity_file) as h5:
        names = (
            "similarity", "similarity_by_layer", "block_mean", "block_mean_by_layer", "langs", "sample_ids", "norms",
            "map_rows",
        )
        assert set(h5) == set(names)
        for name in names:
            values = h5[name].asstr()[...] if name in ("langs", "sample_ids") else h5[name][...]
            assert int(h5[name].attrs[DATASET_CHECKSUM]) == checksum(values)


@pytest.mark.parametrize("reader", ["read_norms", "regions", "figure"])
def test_changed_byte_of_a_dataset_stops_every_reader(activation_stores, similarity_file, tmp_path, reader):
    stores, _ = activation_stores
    name = "similarity" if reader == "figure" else "norms"
    with h5py.File(similarity_file) as h5:
        dataset = h5[name].id  # contiguous (norms) or chunked (similarity, in row slabs): find its first bytes
        offset = dataset.get_offset() if dataset.get_offset() is not None else dataset.get_chunk_info(0).byte_offset
    flip_byte(similarity_file, offset + 3)
    problem = f"dataset '{name}' does not match the checksum recorded when it was written"
    with pytest.raises(LinguaFrancaError, match=damaged("similarity file", similarity_file, problem)):
        similarity_readers(similarity_file, stores, tmp_path)[reader]()


@pytest.mark.parametrize("reader", ["read_norms", "regions", "figure"])
def test_truncated_file_stops_every_reader(activation_stores, similarity_file, tmp_path, reader):
    stores, _ = activation_stores
    data = similarity_file.read_bytes()
    similarity_file.write_bytes(data[: len(data) // 2])
    problem = "it cannot be read as HDF5"
    with pytest.raises(LinguaFrancaError, match=damaged("similarity file", similarity_file, problem)):
        similarity_readers(similarity_file, stores, tmp_path)[reader]()


def test_dataset_written_in_pieces_verifies(tmp_path):
    """The layer-by-layer writer's way: chain the checksum over pieces, then record it."""
    path = tmp_path / "pieces.h5"
    layers = np.random.default_rng(1).random((3, 4, 4)).astype(np.float32)
    with h5py.File(path, "w") as h5:
        h5.attrs["languages"] = ["en"]
        dataset = h5.create_dataset("norms", shape=layers.shape, dtype=np.float32)
        crc = 0
        for index, layer in enumerate(layers):
            dataset[index] = layer
            crc = checksum(layer, crc)
        record_checksum(dataset, crc)
        write_dataset(h5, "other", np.arange(3.0))
    np.testing.assert_array_equal(read_norms(path, ["en"]), layers)


@pytest.mark.parametrize(
    ("key", "value"),
    [("model", "other"), ("revision", "r1"), ("dataset", "ntrex"), ("threshold", 1.5), ("weights", "sha256:bbbb"),
     ("compute", "bfloat16")],
)
def test_a_regions_store_from_other_weights_or_settings_stops_its_reader(regions_store, key, value):
    attrs = dict(read_regions(regions_store).attrs)
    matching = {name: attrs.get(name) for name in ("model", "revision", "dataset", "threshold", "weights", "compute")}
    assert matching["threshold"] == 1.0 and matching["model"] == "tiny"
    assert read_regions(regions_store, matching).langs == LANGS
    assert read_regions(regions_store, {**matching, "threshold": 1}).langs == LANGS  # 1 in a path, 1.0 in the store
    with pytest.raises(LinguaFrancaError, match=rf"^regions store {re.escape(str(regions_store))} has {key} "
                                                rf"{re.escape(repr(attrs.get(key)))} but this job has "
                                                rf"{re.escape(repr(value))}: it was made from other weights"):
        read_regions(regions_store, {**matching, key: value}, "this job")


def test_check_regions_is_read_regions_provenance_check_alone(regions_store):
    from linguafranca.io.regions_store import check_regions

    attrs = read_regions(regions_store).attrs
    check_regions(regions_store, {"model": attrs["model"], "threshold": 1})
    with pytest.raises(LinguaFrancaError, match=rf"^regions store {re.escape(str(regions_store))} has threshold 1.0 "
                                                r"but the figure has 2.0"):
        check_regions(regions_store, {"threshold": 2.0}, "the figure")
