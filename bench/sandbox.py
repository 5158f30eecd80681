"""Training throughput of the sandbox's sizes on this machine: tokens per second of the training loop
(linguafranca.sandbox.train) for each size of the default config, at 1 and 2 threads, in float32 and with bfloat16
autocast. It trains a fresh tokenizer and a few steps of each size, saving nothing, and prints one row per
setting; the default run's own figures are in resources/sandbox/{size}/loss.tsv.

    python bench/sandbox.py [--steps 24] [--sizes s m]
"""
import argparse
import copy
import statistics
from dataclasses import replace
from pathlib import Path

import torch
import yaml

from linguafranca.pipeline.config import validate
from linguafranca.sandbox.corpus import training_books, training_mix, training_verses
from linguafranca.sandbox.settings import TrainSettings
from linguafranca.sandbox.tokenizer import train_tokenizer
from linguafranca.sandbox.train import pack, train

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=24, help="steps per setting; the first 4 are not counted")
    parser.add_argument("--sizes", nargs="*", help="sizes of config/config.yaml (default: all)")
    args = parser.parse_args()
    config = validate(copy.deepcopy(yaml.safe_load((REPO / "config" / "config.yaml").read_text())))
    sandbox = config["sandbox"]
    mix, books = training_mix(config), training_books(config)
    verses = training_verses(list(mix), books)
    tokenizer = train_tokenizer(verses, sandbox["vocab_size"])
    packed = pack(verses, tokenizer, sandbox["seq_len"])
    print("size\tthreads\tautocast\ttokens/s (median of steps 5 on)")
    for size in args.sizes or list(sandbox["sizes"]):
        base = replace(TrainSettings.of(sandbox, sandbox["sizes"][size]), steps=args.steps)
        for threads in (1, 2):
            for autocast in ("none", "bfloat16"):
                torch.set_num_threads(threads)
                rows = train(replace(base, autocast=autocast), packed, mix, tokenizer, {})
                speed = statistics.median(row["tokens_per_s"] for row in rows[4:])
                print(f"{size}\t{threads}\t{autocast}\t{speed:,.0f}", flush=True)


if __name__ == "__main__":
    main()
