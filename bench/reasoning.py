"""How fast is the reasoning stage? FastLM against lm-eval's HFLM on the same items (goal: ≥ 3× faster), the
per-item cost that sets ``reasoning.limit``, and the start-up a reasoning job pays before its first item.

Prints figures only (no timed asserts): import of lm_eval, model + tokenizer loading, then for each model class
the wall and process CPU time of ``evaluate`` on ``--items`` items of each language, of which the model's own
part (``_loglikelihood_tokens``: the requests lm-eval hands over, already tokenised the same way for both), and
whether the two agree (largest log-likelihood difference, identical accuracies). Each class first evaluates one
item unmeasured, so neither pays torch's first-call warm-up in the figures.

    .venv/bin/python bench/reasoning.py --manifest resources/models/gemma3-270m/main/manifest.json
    .venv/bin/python bench/reasoning.py --task xstorycloze --xstorycloze ../shared/data/xstorycloze --langs es
"""

from __future__ import annotations

import argparse
import time

T0 = time.perf_counter()
import lm_eval  # noqa: E402,F401  (timed: every reasoning job pays it)

IMPORT_S = time.perf_counter() - T0

from lm_eval.models.huggingface import HFLM  # noqa: E402

from linguafranca.io.manifest import read_manifest  # noqa: E402
from linguafranca.model.loading import load_model
from linguafranca.pipeline.threads import set_threads  # noqa: E402
from linguafranca.reasoning.evaluation import evaluate  # noqa: E402
from linguafranca.reasoning.fast_lm import FastLM  # noqa: E402


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", default="resources/models/gemma3-270m/main/manifest.json")
    parser.add_argument("--compute", default="auto")
    parser.add_argument("--langs", default="en,zh")
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=16, help="FastLM's contexts per forward pass")
    parser.add_argument("--hf-batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-hflm", action="store_true")
    parser.add_argument("--task", choices=["bible", "xstorycloze"], default="bible")
    parser.add_argument("--xstorycloze", help="XStoryCloze folder (for --task xstorycloze), e.g. ../shared/data/xstorycloze")
    return parser.parse_args()


def timed(lm, task: str, langs: list[str], settings: dict) -> tuple[dict, float, float, float]:
    """lm-eval's results, the wall and CPU seconds of ``evaluate``, and the wall seconds spent in the model's
    ``_loglikelihood_tokens``, after one unmeasured item."""
    evaluate(lm, task, langs[:1], {**settings, "limit": 1})
    scoring = [0.0]
    inner = lm._loglikelihood_tokens

    def counted(*args, **kwargs):
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            scoring[0] += time.perf_counter() - start

    lm._loglikelihood_tokens = counted
    wall, cpu = time.perf_counter(), time.process_time()
    results = evaluate(lm, task, langs, settings)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    del lm._loglikelihood_tokens
    return results, wall, cpu, scoring[0]


def main() -> None:
    args = arguments()
    set_threads(args.threads)
    langs = args.langs.split(",")
    settings = {"limit": args.items, "max_length": 512, "xstorycloze": {"path": args.xstorycloze},
                "bible": {"books": [43], "context_verses": 2, "seed": 0, "db": None}}
    start = time.perf_counter()
    model, tokenizer = load_model(read_manifest(args.manifest), {"compute": args.compute, "device": "cpu"})
    load_s = time.perf_counter() - start
    print(f"import lm_eval {IMPORT_S:.1f} s; model + tokenizer {load_s:.1f} s; threads {args.threads}")
    fast, fast_wall, fast_cpu, fast_model = timed(FastLM(model, tokenizer, batch_size=args.batch_size), args.task,
                                                  langs, settings)
    n = len(langs) * args.items
    print(f"FastLM (batch {args.batch_size}): {fast_wall:.1f} s wall, {fast_cpu:.1f} s CPU for {n} items "
          f"({fast_wall / n:.3f} s/item); of which scoring {fast_model:.1f} s")
    if args.skip_hflm:
        return
    hf = HFLM(pretrained=model, tokenizer=tokenizer, max_length=512, batch_size=args.hf_batch_size)
    slow, slow_wall, slow_cpu, slow_model = timed(hf, args.task, langs, settings)
    print(f"HFLM (batch {args.hf_batch_size}): {slow_wall:.1f} s wall, {slow_cpu:.1f} s CPU ({slow_wall / n:.3f} s/item); "
          f"of which scoring {slow_model:.1f} s")
    print(f"speed-up: {slow_wall / fast_wall:.2f}x wall, {slow_cpu / fast_cpu:.2f}x CPU; "
          f"scoring alone {slow_model / fast_model:.2f}x")
    gap = max(abs(a[0][0] - b[0][0]) for task in fast["samples"]
              for x, y in zip(fast["samples"][task], slow["samples"][task]) for a, b in zip(x["resps"], y["resps"]))
    same = all(fast["results"][t]["acc,none"] == slow["results"][t]["acc,none"] for t in fast["results"])
    print(f"largest log-likelihood difference {gap:.2e}; identical accuracies: {same}")
    for task, metrics in fast["results"].items():
        print(f"  {task}: FastLM acc {metrics['acc,none']:.3f}, HFLM acc {slow['results'][task]['acc,none']:.3f}")


if __name__ == "__main__":
    main()
