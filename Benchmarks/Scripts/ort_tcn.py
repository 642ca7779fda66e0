#!/usr/bin/env python3
"""Times, in ONNX Runtime, the TCN that tempo-bench's `tcn` case runs: locuslab's TemporalConvNet in
eval mode, `blocks` blocks of C -> C channels (no downsample), kernel K, dilations 1, 2, 4, ...,
each block Conv+ReLU, Conv+ReLU, + input, ReLU, with the causal left padding as Conv pads. This is
the window recompute a streaming user would otherwise run, to set beside `tcn_step`.

A timing peer only (seeded random weights, not Tempo's): one JSON line per shape on stdout with
the keys of tempo-bench's `tcn` case, so `tempo-bench --compare` lines them up.

    python3 Benchmarks/Scripts/ort_tcn.py --shapes 16x61,1x61,16x1024 --out ort_tcn.jsonl
"""
import argparse, json, os, sys, time

# As ../shared/peers/peer_bench.py does for every peer: glibc's default thresholds make each call
# page-fault on fresh large blocks. Set before the interpreter's first large allocation.
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(256 << 20), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}
if any(os.environ.get(k) != v for k, v in MALLOC_ENV.items()):
    os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **MALLOC_ENV})

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper


def tcn_model(channels, kernel, blocks, seed=0):
    rng = np.random.default_rng(seed)
    nodes, weights, current = [], [], "x"
    for i in range(blocks):
        d = 2 ** i
        source = current
        for j in (1, 2):
            w = (rng.standard_normal((channels, channels, kernel)) * 0.05).astype(np.float32)
            weights += [numpy_helper.from_array(w, f"w{i}{j}"), numpy_helper.from_array(np.zeros(channels, np.float32), f"b{i}{j}")]
            nodes.append(helper.make_node(
                "Conv", [source, f"w{i}{j}", f"b{i}{j}"], [f"c{i}{j}"],
                dilations=[d], pads=[(kernel - 1) * d, 0], kernel_shape=[kernel]))
            nodes.append(helper.make_node("Relu", [f"c{i}{j}"], [f"h{i}{j}"]))
            source = f"h{i}{j}"
        nodes.append(helper.make_node("Add", [source, current], [f"s{i}"]))
        nodes.append(helper.make_node("Relu", [f"s{i}"], [f"y{i}"]))
        current = f"y{i}"
    graph = helper.make_graph(
        nodes, "tcn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", channels, "L"])],
        [helper.make_tensor_value_info(current, TensorProto.FLOAT, ["B", channels, "L"])], weights)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", default="16x61,1x61,16x1024", help="BxL pairs, comma-separated")
    parser.add_argument("--channels", type=int, default=128)
    parser.add_argument("--kernel", type=int, default=3)
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", help="also append the JSON lines to this file")
    args = parser.parse_args()

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    model = tcn_model(args.channels, args.kernel, args.blocks)
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(1)
    lines = []
    for shape in args.shapes.split(","):
        batch, length = (int(v) for v in shape.split("x"))
        x = rng.standard_normal((batch, args.channels, length)).astype(np.float32)
        # Warm up for half a second at least: a first run with 20 warm-up calls measured B16
        # L61 at 13.8 ms, the next ones 6.5.
        warm_until = time.perf_counter() + 0.5
        for calls in range(1000):
            session.run(None, {"x": x})
            if calls >= 20 and time.perf_counter() > warm_until:
                break
        times = []
        for _ in range(200 if length < 256 else 20):
            start = time.perf_counter_ns()
            session.run(None, {"x": x})
            times.append((time.perf_counter_ns() - start) / 1e6)
        flops = 4.0 * args.blocks * batch * args.channels * length * args.channels * args.kernel
        median = float(np.median(times))
        lines.append(json.dumps({
            "peer": "onnxruntime", "impl": "Conv+Relu+Add graph", "op": "tcn", "B": batch, "C": args.channels,
            "L": length, "K": args.kernel, "blocks": args.blocks, "threads": args.threads, "median_ms": median,
            "min_ms": float(np.min(times)), "reps": len(times), "flops": flops, "gflops": flops / median / 1e6,
            "version": ort.__version__, "malloc_tuned": True}))
    print("\n".join(lines))
    if args.out:
        with open(args.out, "a") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
