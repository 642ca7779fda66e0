#!/usr/bin/env python3
"""Alternating rounds of ONNX Runtime and Tempo on the same cases, and the ratio of each round.

On a machine whose speed moves from one second to the next (this project's 2-core KVM guests:
up to 25 % on two threads), one run of each side compares two different machines. A round here
runs ONNX Runtime (../shared/peers/peer_bench.py, ORT only) and then Tempo (tempo-bench, CPU)
on every case, back to back; the summary gives, per case, both sides' medians and ranges and the
per-round ratio ORT / Tempo (above 1, Tempo is faster) with how many rounds Tempo won.

    python3 Benchmarks/Scripts/rounds.py --ops lstm,gru --rounds 8 \\
        --out Benchmarks/Results/2026-12-04-recurrent-rounds

writes `<out>-ort.jsonl` and `<out>-tempo.jsonl` (one line per case and round, the files the
README's figures cite) and prints the summary. Ops and shapes are the peers' (tempo-bench takes
the same keys), B = 1 left out unless --with-batch-1.
"""
import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PEER_BENCH = os.path.join(os.path.dirname(ROOT), "shared", "peers", "peer_bench.py")
SHAPE_KEYS = {"lstm": ["B", "T", "I", "H"], "gru": ["B", "T", "I", "H"], "rnn": ["B", "T", "I", "H"],
              "conv1d": ["B", "Cin", "Cout", "L", "K", "dilation"], "attention": ["B", "heads", "S", "d", "causal"]}


def case_key(record):
    """The case a JSON line describes: its op and shape keys, the same in both tools' lines."""
    return (record["op"],) + tuple((k, str(record[k]).lower()) for k in SHAPE_KEYS[record["op"]] if k in record)


def run_ort(ops, threads, peer_bench):
    output = subprocess.run(
        [sys.executable, peer_bench, "--ops", ",".join(ops), "--threads", str(threads), "--no-torch"],
        check=True, capture_output=True, text=True).stdout
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    # One implementation per case: ONNX Runtime's fastest of the round where it has several.
    fastest = {}
    for record in records:
        key = case_key(record)
        if key not in fastest or record["median_ms"] < fastest[key]["median_ms"]:
            fastest[key] = record
    return list(fastest.values())


def run_tempo(tempo_bench, record, threads):
    shape = ",".join(f"{k}={str(record[k]).lower()}" for k in SHAPE_KEYS[record["op"]] if k in record)
    with tempfile.NamedTemporaryFile(suffix=".jsonl") as out:
        subprocess.run(
            [tempo_bench, "run", "--op", record["op"], "--shape", shape, "--device", "cpu", "--threads", str(threads),
             "--quiet", "--json", out.name], check=True, capture_output=True)
        return [json.loads(line) for line in open(out.name) if line.startswith("{")]


def summarize(ort_records, tempo_records):
    ort, tempo = collections.defaultdict(list), collections.defaultdict(list)
    for record in ort_records:
        ort[case_key(record)].append(record["median_ms"])
    for record in tempo_records:
        tempo[case_key(record)].append(record["median_ms"])
    for key in ort:
        o, t = ort[key], tempo.get(key, [])
        if not t:
            continue
        # Files written by hand may hold every ORT implementation of a round (in order): keep
        # the fastest of each round, as run_ort does.
        if len(o) > len(t) and len(o) % len(t) == 0:
            per_round = len(o) // len(t)
            o = [min(o[i:i + per_round]) for i in range(0, len(o), per_round)]
        ratios = [a / b for a, b in zip(o, t)]
        name = key[0] + " " + " ".join(f"{k}={v}" for k, v in key[1:])
        print(f"{name}: ORT {statistics.median(o):.2f} ms ({min(o):.2f}-{max(o):.2f}), "
              f"Tempo {statistics.median(t):.2f} ms ({min(t):.2f}-{max(t):.2f}), "
              f"ORT/Tempo per round {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}), "
              f"Tempo faster in {sum(r > 1 for r in ratios)} of {len(ratios)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", default="lstm,gru")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--with-batch-1", action="store_true", help="keep the B = 1 cases")
    parser.add_argument("--tempo-bench", default=os.path.join(ROOT, ".build", "release", "tempo-bench"))
    parser.add_argument("--peer-bench", default=PEER_BENCH)
    parser.add_argument("--out", help="prefix of the two JSON-lines files to write")
    parser.add_argument("--summarize", help="only summarize the files with this prefix")
    args = parser.parse_args()

    if args.summarize:
        load = lambda path: [json.loads(line) for line in open(path) if line.startswith("{")]
        summarize(load(args.summarize + "-ort.jsonl"), load(args.summarize + "-tempo.jsonl"))
        return
    ops = args.ops.split(",")
    ort_records, tempo_records = [], []
    for round_index in range(args.rounds):
        cases = [r for r in run_ort(ops, args.threads, args.peer_bench) if args.with_batch_1 or r.get("B") != 1]
        ort_records += cases
        for record in cases:
            tempo_records += run_tempo(args.tempo_bench, record, args.threads)
        print(f"round {round_index + 1} of {args.rounds} done", file=sys.stderr)
    if args.out:
        for suffix, records in (("-ort.jsonl", ort_records), ("-tempo.jsonl", tempo_records)):
            with open(args.out + suffix, "w") as f:
                f.writelines(json.dumps(r) + "\n" for r in records)
    summarize(ort_records, tempo_records)


if __name__ == "__main__":
    main()
