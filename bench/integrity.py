"""Cost of the store integrity checks: writing and reading one activation store with and without them.

The default shape is the default Gemma 3 270M store: 900 samples x 18 layers x 2048 neurons float32 (133 MB,
one block, so 18 chunks). Compares, on the same data in a temporary folder:

- write: :func:`linguafranca.io.activations.activation_writer` (checksums taken as blocks are written) against a plain
  Zarr array with the same chunks and every chunk written;
- read: every layer through :func:`linguafranca.io.activations.open_stores` (up-front existence check, each layer's chunks
  verified) against plain ``array[:, layer, :]`` reads of the same store;
- the crc32 of the whole store's values alone.

    .venv/bin/python bench/integrity.py
    .venv/bin/python bench/integrity.py --samples 100 --layers 80 --neurons 28672   # one 70B-shaped language

Prints the median of ``--repeats`` interleaved runs of each. No assertions: speed is reported, not tested.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import zarr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linguafranca.io.activations import activation_writer, block_size, open_stores  # noqa: E402
from linguafranca.io.checksummed import ALL_CHUNKS, checksum


#: The capture's max_length the stores are written for: uint16 active counts, as the default run's.
MAX_TOKENS = 512


def write_checked(path: Path, data: np.ndarray, block: int, lang: str) -> None:
    n, n_layers, n_neurons = data.shape
    with activation_writer(path, n, n_layers, n_neurons, block, MAX_TOKENS) as writer:
        for start in range(0, n, block):
            rows = data[start : start + block]
            writer.write(start, rows, np.full(len(rows), 9), np.zeros(rows.shape, dtype=np.uint16))
        writer.finish({"lang": lang, "sample_ids": [f"s{i}" for i in range(n)]})


def write_plain(path: Path, data: np.ndarray, block: int) -> zarr.Array:
    group = zarr.open_group(str(path), mode="w", zarr_format=3)
    array = group.create_array("mean", shape=data.shape, chunks=(block, 1, data.shape[2]), dtype="float32",
                               config=ALL_CHUNKS)
    for start in range(0, len(data), block):
        array[start : start + block] = data[start : start + block]
    return array


def read_checked(stores: dict[str, Path]) -> float:
    total = 0.0
    for _, X in open_stores(stores).layers():
        total += float(X[0, 0])
    return total


def read_plain(array: zarr.Array) -> float:
    total = 0.0
    for layer in range(array.shape[1]):
        total += float(array[:, layer, :][0, 0])
    return total


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=900)
    parser.add_argument("--layers", type=int, default=18)
    parser.add_argument("--neurons", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    shape = (args.samples, args.layers, args.neurons)
    data = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    block = block_size(*shape, MAX_TOKENS)
    print(f"store {shape} float32, {data.nbytes / 1e6:.0f} MB, block {block}, "
          f"{-(-args.samples // block) * args.layers} chunks")
    times: dict[str, list[float]] = {key: [] for key in ("write checked", "write plain", "read checked",
                                                         "read plain", "crc32 alone")}
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parents[1]) as folder:
        root = Path(folder)
        write_checked(root / "a.zarr", data, block, "a")
        write_checked(root / "b.zarr", data, block, "b")  # open_stores compares two languages
        plain = write_plain(root / "plain.zarr", data, block)
        stores = {"a": root / "a.zarr", "b": root / "b.zarr"}
        for repeat in range(args.repeats):  # fresh paths: no time spent removing an earlier store
            times["write checked"].append(timed(write_checked, root / f"w{repeat}.zarr", data, block, "w"))
            times["write plain"].append(timed(write_plain, root / f"p{repeat}.zarr", data, block))
            shutil.rmtree(root / f"w{repeat}.zarr"), shutil.rmtree(root / f"p{repeat}.zarr")
            times["read checked"].append(timed(read_checked, stores) / 2)  # per language
            times["read plain"].append(timed(read_plain, plain))
            times["crc32 alone"].append(timed(checksum, data))
    median = {key: statistics.median(values) for key, values in times.items()}
    for key, value in median.items():
        print(f"{key:>14}: {value * 1000:8.1f} ms (median of {args.repeats})")
    print(f"write checked / plain: {median['write checked'] / median['write plain']:.3f}")
    print(f" read checked / plain: {median['read checked'] / median['read plain']:.3f}")
    print(f"crc32 throughput: {data.nbytes / median['crc32 alone'] / 1e9:.2f} GB/s")


if __name__ == "__main__":
    main()
