#!/usr/bin/env python3
"""ONNX Runtime's LSTM/GRU and Tempo's CPU recurrent kernel in one process, call by call.

This project's machines change speed from one second to the next (up to 25 % on two threads), so
two benchmark runs, even alternated, compare different machines. Here both engines run in one
Python process, one call each in turn, so each pair of calls sees the same machine; the figure is
the median over pairs of ORT's time over Tempo's (above 1, Tempo is faster). Tempo runs as its C
kernel (`tempo_recurrent_sequence` from Sources/CTempoCPU, built here into a shared library with
the flags SwiftPM uses in release), which is what `tempo-bench`'s lstm and gru cases time less
the Swift front end (a few microseconds a call). The two outputs are checked against each other
first (the same weights in each engine's gate order).

Both engines keep worker threads that spin for a while after a call (ONNX Runtime's one worker
burns a core for about 47 ms here, Tempo's for 50 us); a pause before each call (--pause-ms,
default 60) lets them fall asleep so that neither finds a core taken by the other's. Each timed
call follows an untimed one of the same engine (warm threads and caches, as in back-to-back
calls); with --cold it does not, and each call starts from sleeping threads, as an application's
occasional call does, which costs both engines the wake-up of a sleeping worker (up to a
millisecond on these VMs).

    python3 Benchmarks/Scripts/inprocess_recurrent.py --cells lstm,gru --pairs 200
"""
import argparse
import ctypes
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHAPES = [(32, 128, 256, 256), (64, 64, 512, 512), (1, 128, 256, 256)]  # (B, T, I, H), the peers'
CELLS = {"lstm": (2, 4), "gru": (3, 3)}  # tempo_cell, gate blocks


class RecurrentArgs(ctypes.Structure):
    _fields_ = [
        ("cell", ctypes.c_int), ("peephole", ctypes.c_int), ("coupled", ctypes.c_int),
        ("steps", ctypes.c_int), ("batch", ctypes.c_int), ("input", ctypes.c_int), ("hidden", ctypes.c_int),
        ("projection", ctypes.c_int), ("directions", ctypes.c_int),
        ("x", ctypes.c_void_p), ("w_ih", ctypes.c_void_p * 2), ("w_hh", ctypes.c_void_p * 2),
        ("b_ih", ctypes.c_void_p * 2), ("b_hh", ctypes.c_void_p * 2), ("w_peephole", ctypes.c_void_p * 2),
        ("w_hr", ctypes.c_void_p * 2), ("h0", ctypes.c_void_p), ("c0", ctypes.c_void_p),
        ("lengths", ctypes.c_void_p), ("y", ctypes.c_void_p), ("h_n", ctypes.c_void_p), ("c_n", ctypes.c_void_p),
    ]


def build_library(directory):
    sources = sorted(glob.glob(os.path.join(ROOT, "Sources", "CTempoCPU", "*.c")))
    library = os.path.join(directory, "libtempocpu.so")
    # Clang, as SwiftPM (the kernels use its vector extensions), with SwiftPM's release flags.
    subprocess.run(["clang", "-O2", "-fPIC", "-fno-omit-frame-pointer", "-shared", "-pthread",
                    "-I", os.path.join(ROOT, "Sources", "CTempoCPU", "include"), "-o", library] + sources, check=True)
    return ctypes.CDLL(library)


def aligned(count):
    """A float32 array of `count` zeros whose data starts on a 64-byte boundary."""
    raw = np.zeros(count + 16, np.float32)
    offset = (-raw.ctypes.data % 64) // 4
    return raw[offset:offset + count]


def pointer(array):
    return ctypes.c_void_p(array.ctypes.data)


class TempoLayer:
    def __init__(self, lib, cell, x, w_ih, w_hh, b_ih, b_hh, threads):
        self.lib, self.threads = lib, threads
        T, B, I = x.shape
        H = w_hh.shape[1]
        self.keep = [x, w_ih, w_hh, b_ih, b_hh]
        self.y, self.h_n, self.c_n = aligned(T * B * H), aligned(B * H), aligned(B * H)
        a = RecurrentArgs()
        a.cell, a.steps, a.batch, a.input, a.hidden, a.directions = CELLS[cell][0], T, B, I, H, 1
        a.x, a.w_ih[0], a.w_hh[0], a.b_ih[0], a.b_hh[0] = (pointer(v) for v in (x, w_ih, w_hh, b_ih, b_hh))
        a.y, a.h_n = pointer(self.y), pointer(self.h_n)
        a.c_n = pointer(self.c_n) if cell == "lstm" else None
        self.args = a
        lib.tempo_recurrent_packed_size.restype = ctypes.c_size_t
        lib.tempo_recurrent_workspace_size.restype = ctypes.c_size_t
        self.packed = aligned(lib.tempo_recurrent_packed_size(ctypes.byref(a)))
        self.workspace = aligned(lib.tempo_recurrent_workspace_size(ctypes.byref(a), threads))
        lib.tempo_recurrent_pack(ctypes.byref(a), pointer(self.packed), threads)

    def __call__(self):
        self.lib.tempo_recurrent_sequence(ctypes.byref(self.args), pointer(self.packed), pointer(self.workspace), self.threads)
        return self.y


def onnx_session(cell, x, w_ih, w_hh, b_ih, b_hh, threads):
    """ONNX's LSTM/GRU with PyTorch's weights reordered: LSTM gates i,f,g,o -> i,o,f,c; GRU r,z,n
    -> z,r,h with linear_before_reset = 1 (PyTorch's form)."""
    T, B, I = x.shape
    H = w_hh.shape[1]
    blocks = lambda w: [w[k * H:(k + 1) * H] for k in range(len(w) // H)]
    order = (lambda v: [v[0], v[3], v[1], v[2]]) if cell == "lstm" else (lambda v: [v[1], v[0], v[2]])
    reorder = lambda w: np.concatenate(order(blocks(w)))[None]
    W, R = reorder(w_ih), reorder(w_hh)
    Bias = np.concatenate([reorder(b_ih)[0], reorder(b_hh)[0]])[None]
    op = "LSTM" if cell == "lstm" else "GRU"
    extra = {} if cell == "lstm" else {"linear_before_reset": 1}
    node = helper.make_node(op, ["x", "W", "R", "B"], ["y"], hidden_size=H, **extra)
    graph = helper.make_graph(
        [node], "rnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [T, B, I])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [T, 1, B, H])],
        [numpy_helper.from_array(v.astype(np.float32), n) for v, n in ((W, "W"), (R, "R"), (Bias, "B"))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return lambda: session.run(None, {"x": x})[0]


def timed(function):
    start = time.perf_counter_ns()
    function()
    return (time.perf_counter_ns() - start) / 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", default="lstm,gru")
    parser.add_argument("--shapes", default=",".join("x".join(map(str, s)) for s in SHAPES), help="BxTxIxH, comma-separated")
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pause-ms", type=float, default=60.0)
    parser.add_argument("--cold", action="store_true", help="time each engine's first call after the pause")
    args = parser.parse_args()
    # Tempo's Swift front end sets this before its first BLAS call; the kernel calls no BLAS, but
    # ORT's process may load OpenBLAS through numpy, whose workers must not spin on our cores.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory() as directory:
        lib = build_library(directory)
        rng = np.random.default_rng(0)
        for cell in args.cells.split(","):
            G = CELLS[cell][1]
            for shape in args.shapes.split(","):
                B, T, I, H = (int(v) for v in shape.split("x"))
                scale = 1 / np.sqrt(H)
                x = rng.standard_normal((T, B, I)).astype(np.float32)
                w_ih, w_hh = (rng.uniform(-scale, scale, (G * H, n)).astype(np.float32) for n in (I, H))
                b_ih, b_hh = (rng.uniform(-scale, scale, G * H).astype(np.float32) for _ in range(2))
                tempo = TempoLayer(lib, cell, x, w_ih, w_hh, b_ih, b_hh, args.threads)
                onnx = onnx_session(cell, x, w_ih, w_hh, b_ih, b_hh, args.threads)
                difference = np.abs(tempo().reshape(T, B, H) - onnx().reshape(T, B, H)).max()
                if difference > 1e-4:
                    sys.exit(f"{cell} B{B} T{T} I{I} H{H}: outputs differ by {difference}")
                for _ in range(5):
                    onnx(), tempo()
                ort_ms, tempo_ms = [], []
                for pair in range(args.pairs):
                    # Alternate which engine goes first, so that neither always follows the other.
                    order = ((onnx, ort_ms), (tempo, tempo_ms)) if pair % 2 == 0 else ((tempo, tempo_ms), (onnx, ort_ms))
                    for function, times in order:
                        time.sleep(args.pause_ms / 1000)
                        if not args.cold:
                            function()
                        times.append(timed(function))
                ratios = [o / t for o, t in zip(ort_ms, tempo_ms)]
                print(f"{cell} B{B} T{T} I{I} H{H} ({args.pairs} {'cold' if args.cold else 'warm'} pairs, "
                      f"outputs within {difference:.1e}): "
                      f"ORT {statistics.median(ort_ms):.3f} ms, Tempo {statistics.median(tempo_ms):.3f} ms, "
                      f"ORT/Tempo per pair median {statistics.median(ratios):.3f}x "
                      f"(quartiles {np.percentile(ratios, 25):.3f}-{np.percentile(ratios, 75):.3f}), "
                      f"Tempo faster in {sum(r > 1 for r in ratios)} of {len(ratios)}", flush=True)


if __name__ == "__main__":
    main()
