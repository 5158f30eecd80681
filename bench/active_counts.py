"""What LAPE counts cost: capture time with the counting hooks against means alone, and store size by codec.

Capture runs on one language of the default text (the model load excluded) three ways, interleaved so that this
machine's drift hits all alike: the plain base-model forward, the means alone (``NeuronSums``, capture before
counts) and capture as it is now (means and ``NeuronActiveCounts`` in the same pass). The counts it captured are
then written as the store's ``active_count`` array (chunks ``[block, 1, n_neurons]``) with each codec tried, and a
whole store is written as capture writes it, to give its size with and without ``active_count``. Real counts, since
random ones would compress differently.

    python bench/active_counts.py [--manifest resources/models/gemma3-270m/main/manifest.json] [--samples 100]

Prints figures only; nothing here asserts a time. Run the default workflow's resolve_model job first
(``snakemake --cores 2 resources/models/gemma3-270m/main/manifest.json``).
"""

from __future__ import annotations

import argparse
import inspect
import tempfile
from pathlib import Path

import numpy as np
import torch
import zarr
from timing import run_times
from zarr.codecs import BloscCodec, BytesCodec, ZstdCodec

from linguafranca.analysis.capture import capture_means
from linguafranca.data.bible import load_bible
from linguafranca.io.activations import ACTIVE, activation_writer, block_size
from linguafranca.io.manifest import read_manifest
from linguafranca.model.architectures import down_projections
from linguafranca.model.batching import batches, forward_inputs
from linguafranca.model.hooks import NeuronSums
from linguafranca.model.loading import load_model
from linguafranca.model.tokens import encode

#: The codecs tried for ``active_count``, by the name printed; None writes raw bytes.
CODECS = {
    "none": None,
    "zstd level 0 (zarr's default)": ZstdCodec(level=0),
    "zstd level 3": ZstdCodec(level=3),
    "blosc zstd 5 + bit shuffle": BloscCodec(cname="zstd", clevel=5, shuffle="bitshuffle"),
    "blosc zstd 5 + byte shuffle": BloscCodec(cname="zstd", clevel=5, shuffle="shuffle"),
    "blosc lz4 5 + bit shuffle (mean's)": BloscCodec(cname="lz4", clevel=5, shuffle="bitshuffle"),
}

MAX_LENGTH = 512


def folder_bytes(path: Path) -> int:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def forward(model, encoded, batch_size: int, pad: int, side: str, means: bool) -> None:
    """The base model over ``encoded`` in capture's batches; with ``means``, the means hooks (capture before
    counts) installed."""
    positions = "position_ids" in inspect.signature(model.base_model.forward).parameters
    device = next(model.parameters()).device
    sums = NeuronSums(down_projections(model) if means else [])
    with torch.inference_mode(), sums.installed():
        for batch in batches(encoded, batch_size, pad, side):
            sums.keep = batch.averaged("text_tokens")
            model.base_model(**forward_inputs(batch, device, positions))


def time_capture(model, encoded, batch_size: int, pad: int, side: str, repeats: int) -> dict[str, float]:
    """Shortest seconds of each way to run, the three interleaved ``repeats`` times after one warm-up each: on a
    shared machine the shortest is the least disturbed by other work."""
    ways = {
        "plain forward": lambda: forward(model, encoded, batch_size, pad, side, False),
        "means alone": lambda: forward(model, encoded, batch_size, pad, side, True),
        "means + counts (capture)": lambda: [
            None for _ in capture_means(model, encoded, batch_size, pad, side, progress=False)
        ],
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    for run in ways.values():
        run()
    for _ in range(repeats):
        for name, run in ways.items():
            times[name] += run_times(run, 1)
    return {name: min(values) for name, values in times.items()}


def captured(model, encoded, batch_size: int, pad: int, side: str):
    """``(mean, n_tokens, active_count)`` of every sample, in sample order."""
    n_layers = len(down_projections(model))
    mean = counts = None
    n_tokens = np.zeros(len(encoded), dtype=np.int32)
    for indices, batch_mean, batch_n, batch_counts in capture_means(model, encoded, batch_size, pad, side,
                                                                    progress=False):
        if mean is None:
            n_neurons = batch_mean.shape[2]
            mean = np.zeros((len(encoded), n_layers, n_neurons), dtype=np.float32)
            counts = np.zeros((len(encoded), n_layers, n_neurons), dtype=np.uint16)
        mean[indices], n_tokens[indices], counts[indices] = batch_mean, batch_n, batch_counts
    return mean, n_tokens, counts


def codec_sizes(counts: np.ndarray, folder: Path) -> None:
    n, layers, neurons = counts.shape
    block = block_size(n, layers, neurons, MAX_LENGTH)
    for name, codec in CODECS.items():
        store = folder / f"{len(name)}.zarr"
        array = zarr.create_array(str(store), shape=counts.shape, chunks=(block, 1, neurons), dtype=counts.dtype,
                                  compressors=None if codec is None else [codec], serializer=BytesCodec())
        array[...] = counts
        size = folder_bytes(store)
        print(f"  active_count with {name}: {size:,} bytes ({size / counts.nbytes:.3f} of raw, "
              f"{8 * size / counts.size:.2f} bits per count)")


def store_sizes(mean, n_tokens, counts, folder: Path) -> None:
    """Write a store as capture does and print its size with and without ``active_count``."""
    n, layers, neurons = mean.shape
    path, block = folder / "en.zarr", block_size(n, layers, neurons, MAX_LENGTH)
    with activation_writer(path, n, layers, neurons, block, MAX_LENGTH) as writer:
        for start in range(0, n, block):
            rows = slice(start, start + block)
            writer.write(start, mean[rows], n_tokens[rows], counts[rows])
        writer.finish({"lang": "en", "sample_ids": [f"s{i}" for i in range(n)]})
    total, active = folder_bytes(path), folder_bytes(path / ACTIVE)
    print(f"store: {total - active:,} bytes without active_count, {total:,} with it (x{total / (total - active):.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", default="resources/models/gemma3-270m/main/manifest.json")
    parser.add_argument("--lang", default="en")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    manifest = read_manifest(args.manifest)
    model, tokenizer = load_model(manifest, {"device": "cpu", "compute": "auto"})
    texts = [sample.text for sample in load_bible({"books": [1]}, [args.lang])[args.lang][: args.samples]]
    encoded = [item.truncated(MAX_LENGTH) for item in encode(tokenizer, texts, None)]
    pad, side = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0, tokenizer.padding_side
    print(f"model: {manifest['name']} ({next(model.parameters()).dtype}), threads: {torch.get_num_threads()}, "
          f"{len(encoded)} samples, {sum(len(item.ids) for item in encoded)} tokens, batch {args.batch_size}")
    seconds = time_capture(model, encoded, args.batch_size, pad, side, args.repeats)
    for name, value in seconds.items():
        print(f"{name}: {value:.2f} s (shortest of {args.repeats}), "
              f"{value / seconds['means alone']:.3f} of means alone")
    mean, n_tokens, counts = captured(model, encoded, args.batch_size, pad, side)
    share = counts.sum() / (n_tokens.sum() * counts.shape[1] * counts.shape[2])
    print(f"counts [{', '.join(map(str, counts.shape))}] uint16, {counts.nbytes:,} bytes raw; "
          f"{share:.3f} of (token, neuron) pairs active")
    with tempfile.TemporaryDirectory() as folder:
        codec_sizes(counts, Path(folder))
        store_sizes(mean, n_tokens, counts, Path(folder))


if __name__ == "__main__":
    main()
