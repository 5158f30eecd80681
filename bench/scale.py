"""Capture throughput by batch size, and activation-store size and read time by Zarr codec, on real activations.

Capture runs on one language of the default text at batch sizes 1, 4 and 16 (tokens per second, the model load
excluded). The means it captured are then written as the store's ``mean`` array (chunks ``[block, 1, n_neurons]``,
as linguafranca.io.activations writes them) with each codec tried, and read back whole, layer by layer, as the analysis
stages read them: bytes on disk, bytes per value, and read time. Random numbers would compress differently from
activations, hence the real ones.

    python bench/scale.py [--manifest resources/models/gemma3-270m/main/manifest.json] [--samples 100]

Prints figures only; nothing here asserts a time. Run the default workflow's resolve_model job first
(``snakemake --cores 2 resources/models/gemma3-270m/main/manifest.json``).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import zarr
from zarr.codecs import BloscCodec, BytesCodec, ZstdCodec

from linguafranca.analysis.capture import capture_means
from linguafranca.data.bible import load_bible
from linguafranca.io.activations import block_size
from linguafranca.io.manifest import read_manifest
from linguafranca.model.loading import load_model
from linguafranca.model.tokens import encode

#: The codecs tried, by the name printed; None writes raw bytes. zarr 3 writes Zstd level 0 when told nothing.
CODECS = {
    "none": None,
    "zstd level 0 (zarr's default)": ZstdCodec(level=0),
    "zstd level 3": ZstdCodec(level=3),
    "zstd level 9": ZstdCodec(level=9),
    "blosc zstd 5 + byte shuffle": BloscCodec(cname="zstd", clevel=5, shuffle="shuffle"),
    "blosc lz4 5 + bit shuffle (linguafranca's)": BloscCodec(cname="lz4", clevel=5, shuffle="bitshuffle"),
}


def capture_rate(model, encoded, batch_size: int, pad: int, padding_side: str, repeats: int) -> tuple[float, np.ndarray]:
    """Median tokens per second of capturing ``encoded`` at ``batch_size``, and the means, in sample order."""
    n_tokens = sum(len(item.ids) for item in encoded)
    times, means = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        for indices, mean, _, _ in capture_means(model, encoded, batch_size, pad, padding_side, progress=False):
            if means is None:
                means = np.empty((len(encoded), *mean.shape[1:]), dtype=np.float32)
            means[indices] = mean
        times.append(time.perf_counter() - start)
    return n_tokens / statistics.median(times), means


def codec_figures(means: np.ndarray, codec, folder: Path) -> tuple[int, float]:
    """Bytes on disk of ``means`` written with ``codec``, and the seconds to read it back layer by layer."""
    n, layers, neurons = means.shape
    block = block_size(n, layers, neurons, 512)
    store = folder / "mean.zarr"
    array = zarr.create_array(str(store), shape=means.shape, chunks=(block, 1, neurons), dtype="float32",
                              compressors=None if codec is None else [codec], serializer=BytesCodec())
    array[...] = means
    size = sum(path.stat().st_size for path in store.rglob("*") if path.is_file())
    start = time.perf_counter()
    reread = zarr.open_array(str(store), mode="r")
    for layer in range(layers):
        assert np.array_equal(reread[:, layer, :], means[:, layer, :])
    seconds = time.perf_counter() - start
    shutil.rmtree(store)
    return size, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", default="resources/models/gemma3-270m/main/manifest.json")
    parser.add_argument("--lang", default="en")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    manifest = read_manifest(args.manifest)
    model, tokenizer = load_model(manifest, {"device": "cpu", "compute": "auto"})
    texts = [sample.text for sample in load_bible({"books": [1]}, [args.lang])[args.lang][: args.samples]]
    encoded = [item.truncated(512) for item in encode(tokenizer, texts, None)]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    print(f"model: {manifest['name']} ({next(model.parameters()).dtype}), threads: {torch.get_num_threads()}, "
          f"{len(encoded)} samples, {sum(len(item.ids) for item in encoded)} tokens")
    capture_rate(model, encoded[:8], max(args.batch_sizes), pad, tokenizer.padding_side, 1)  # warm-up
    means = None
    for batch_size in args.batch_sizes:
        rate, means = capture_rate(model, encoded, batch_size, pad, tokenizer.padding_side, args.repeats)
        print(f"capture, batch {batch_size:>2}: {rate:,.0f} tokens/s (median of {args.repeats})")

    n, layers, neurons = means.shape
    print(f"store: mean [{n}, {layers}, {neurons}] float32, {means.nbytes:,} bytes raw")
    with tempfile.TemporaryDirectory() as folder:
        for name, codec in CODECS.items():
            size, seconds = codec_figures(means, codec, Path(folder))
            print(f"codec {name}: {size:,} bytes ({size / means.nbytes:.3f} of raw, {8 * size / means.size:.1f} bits "
                  f"per value), read layer by layer in {seconds * 1000:.0f} ms")


if __name__ == "__main__":
    main()
