#!/usr/bin/env python3
"""Prints the bench table of docs/perf.md from criterion's results in target/criterion.

Ratios are only meaningful between figures of the same run: run the benches once,
then this script.
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


def main():
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
