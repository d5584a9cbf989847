#!/usr/bin/env python3
"""Prints the bench tables of docs/perf.md from criterion's results in target/criterion.

Ratios are only meaningful between figures of the same run: run the benches once,
then this script. `report.py` prints the per-tier table (bench `groth16`),
`report.py batch` the batch-verification table and ratios (bench `batch`).
"""
import glob
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "criterion")


def median_ns(path):
    with open(path) as f:
        return json.load(f)["median"]["point_estimate"]


def fmt(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.0f} ns"


def samples_ns(directory):
    """Per-iteration times of every sample: criterion's sample.json holds totals."""
    with open(os.path.join(directory, "new", "sample.json")) as f:
        data = json.load(f)
    return sorted(t / n for t, n in zip(data["times"], data["iters"]))


def batch_report():
    results = {}
    for bench in glob.glob(os.path.join(ROOT, "batch", "*", "*", "new", "benchmark.json")):
        with open(bench) as f:
            meta = json.load(f)
        directory = os.path.dirname(os.path.dirname(bench))
        n = int(meta["value_str"])
        times = samples_ns(directory)
        results[(meta["function_id"], n)] = {
            "median": median_ns(os.path.join(directory, "new", "estimates.json")) / n,
            "min": times[0] / n,
            "sample_median": times[len(times) // 2] / n,
        }
    if not results:
        sys.exit("no batch results: run `cargo bench -p zktx-benches --bench batch` first")
    sizes = sorted({n for _, n in results})
    columns = [
        ("single/ark-groth16", "single, ark-groth16"),
        ("single/arkworks", "single, arkworks"),
        ("single/blst", "single, blst"),
        ("floor/arkworks/t1", "floor arkworks 1T"),
        ("floor/blst/t1", "floor blst 1T"),
        ("batch/arkworks/t1", "batch arkworks 1T"),
        ("batch/arkworks/t2", "batch arkworks 2T"),
        ("batch/blst/t1", "batch blst 1T"),
        ("batch/blst/t2", "batch blst 2T"),
        ("one-invalid/arkworks/t2", "1 invalid, arkworks 2T"),
        ("one-invalid/blst/t2", "1 invalid, blst 2T"),
        ("cache-hit/t2", "cache hits 2T"),
    ]
    for stat, title in (
        ("median", "Median time per proof (criterion's estimate)"),
        ("min", "Fastest sample, time per proof (the machine is shared: the least disturbed sample)"),
    ):
        print(f"{title}.\n")
        print("| N | " + " | ".join(label for _, label in columns) + " |")
        print("|---:|" + "---:|" * len(columns))
        for n in sizes:
            cells = [fmt(results[(key, n)][stat]) if (key, n) in results else "–" for key, _ in columns]
            print(f"| {n} | " + " | ".join(cells) + " |")
        print()

    def ratio(a, b, n, stat="median"):
        if (a, n) in results and (b, n) in results:
            return results[(a, n)][stat] / results[(b, n)][stat]
        return None

    def both(a, b, n):
        lo, med = ratio(a, b, n, "min"), ratio(a, b, n, "sample_median")
        return f"{lo:.2f}x / {med:.2f}x" if lo else "–"

    print("Ratios in this run, as min / median (min: fastest sample of each; median: median sample of each).\n")
    print("| N | single ark-groth16 ÷ batch blst 2T | single blst ÷ batch blst 2T | single ark-groth16 ÷ batch arkworks 2T "
          "| blst batch 1T ÷ floor | blst 1T ÷ 2T | arkworks 1T ÷ 2T | blst 1 invalid ÷ valid | arkworks 1 invalid ÷ valid | arkworks ÷ blst batch 2T |")
    print("|---:|" + "---:|" * 9)
    for n in sizes:
        cells = [
            both("single/ark-groth16", "batch/blst/t2", n),
            both("single/blst", "batch/blst/t2", n),
            both("single/ark-groth16", "batch/arkworks/t2", n),
            both("batch/blst/t1", "floor/blst/t1", n),
            both("batch/blst/t1", "batch/blst/t2", n),
            both("batch/arkworks/t1", "batch/arkworks/t2", n),
            both("one-invalid/blst/t2", "batch/blst/t2", n),
            both("one-invalid/arkworks/t2", "batch/arkworks/t2", n),
            both("batch/arkworks/t2", "batch/blst/t2", n),
        ]
        print(f"| {n} | " + " | ".join(cells) + " |")


def main():
    if sys.argv[1:] == ["batch"]:
        return batch_report()
    tiers = sorted(
        (int(os.path.basename(d).split("-")[1]), d) for d in glob.glob(os.path.join(ROOT, "tier-*"))
    )
    if not tiers:
        sys.exit("no criterion results: run `cargo bench -p zktx-benches` first")
    print("| tier | constraints | setup | prove | baseline prove | prove / baseline | verify (decode + pairing) | pairing only |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for tier, d in tiers:
        get = lambda name: median_ns(os.path.join(d, name, "new", "estimates.json"))
        baseline_dirs = glob.glob(os.path.join(d, "baseline-prove", "*", "new", "estimates.json"))
        constraints = int(baseline_dirs[0].split(os.sep)[-3])
        baseline = median_ns(baseline_dirs[0])
        prove = get("prove")
        print(
            f"| {tier} | {constraints} | {fmt(get('setup'))} | {fmt(prove)} | {fmt(baseline)} "
            f"| {prove / baseline:.2f}x | {fmt(get('verify'))} | {fmt(get('verify-pairing-only'))} |"
        )


if __name__ == "__main__":
    main()
