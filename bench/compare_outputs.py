"""Compare two runs of the workflow output by output: every TSV byte for byte, every Zarr array and HDF5 dataset
value for value (dtype and shape included), and their attributes except those that name code or versions.

Run it after any refactor that must change no number: run the default from nothing before and after, then

    python bench/compare_outputs.py BEFORE_DIR AFTER_DIR

where each folder holds a run's ``results/`` and ``resources/``. It prints what it compared and every difference,
and exits 1 when there is one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import h5py
import numpy as np
import zarr

#: Attributes allowed to differ: code hashes and package versions.
IGNORED_ATTRS = {"code", "code_hash", "linguafranca_version", "versions", "torch_version", "transformers_version"}
OUTPUTS = ("results", "resources")


def _attrs(attrs) -> dict:
    """The attributes that must match, as plain Python values (HDF5 gives numpy arrays and bytes)."""
    return {
        k: v.tolist() if isinstance(v, np.ndarray) else v
        for k, v in dict(attrs).items()
        if k not in IGNORED_ATTRS and not k.endswith("_version")
    }


def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind == "f":
        return a.tobytes() == b.tobytes()
    return bool(np.array_equal(a, b))


def _zarr_stores(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.rglob("zarr.json") if not (p.parent.parent / "zarr.json").exists())


def _compare_zarr(before: Path, after: Path, differences: list[str]) -> int:
    old, new = zarr.open_group(str(before), mode="r"), zarr.open_group(str(after), mode="r")
    if _attrs(old.attrs) != _attrs(new.attrs):
        differences.append(f"{after}: group attributes differ")
    names = sorted(name for name, _ in old.arrays())
    if names != sorted(name for name, _ in new.arrays()):
        differences.append(f"{after}: arrays differ: {names}")
        return 0
    for name in names:
        if not _same_array(old[name][...], new[name][...]):
            differences.append(f"{after}/{name}: values differ")
        if _attrs(old[name].attrs) != _attrs(new[name].attrs):
            differences.append(f"{after}/{name}: attributes differ")
    return len(names)


def _compare_h5(before: Path, after: Path, differences: list[str]) -> int:
    count = 0
    with h5py.File(before, "r") as old, h5py.File(after, "r") as new:
        if _attrs(old.attrs) != _attrs(new.attrs):
            differences.append(f"{after}: file attributes differ")
        names: list[str] = []
        old.visititems(lambda name, item: names.append(name) if isinstance(item, h5py.Dataset) else None)
        for name in sorted(names):
            if name not in new:
                differences.append(f"{after}/{name}: missing")
                continue
            count += 1
            if not _same_array(old[name][...], new[name][...]):
                differences.append(f"{after}/{name}: values differ")
            if _attrs(old[name].attrs) != _attrs(new[name].attrs):
                differences.append(f"{after}/{name}: attributes differ")
    return count


def compare(before: Path, after: Path) -> tuple[dict[str, int], list[str]]:
    counts = {"tsv": 0, "zarr arrays": 0, "hdf5 datasets": 0}
    differences: list[str] = []
    for top in OUTPUTS:
        old_root, new_root = before / top, after / top
        for path in sorted(old_root.rglob("*.tsv")):
            if "benchmarks" in path.parts:
                continue
            other = new_root / path.relative_to(old_root)
            counts["tsv"] += 1
            if not other.exists() or path.read_bytes() != other.read_bytes():
                differences.append(f"{other}: differs or is missing")
        for store in _zarr_stores(old_root):
            other = new_root / store.relative_to(old_root)
            if not other.exists():
                differences.append(f"{other}: missing")
                continue
            counts["zarr arrays"] += _compare_zarr(store, other, differences)
        for path in sorted(old_root.rglob("*.h5")):
            counts["hdf5 datasets"] += _compare_h5(path, new_root / path.relative_to(old_root), differences)
    return counts, differences


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    counts, differences = compare(args.before, args.after)
    print("compared: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
    for difference in differences:
        print("DIFFERENT", difference)
    print(f"{len(differences)} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
