#!/usr/bin/env python3
"""Writes the safetensors fixtures of Tests/TempoTests (run from anywhere; outputs land beside this file).

    pip install numpy "safetensors==0.8.0"
    python3 Tests/TempoTests/Fixtures/make_fixtures.py

Every file is written by the `safetensors` package, so the Swift reader is checked against the
reference writer, not against itself. Expected values are computed here in numpy, independently of
Tempo. Seeded, and one metadata key per file, so a rerun reproduces the committed bytes.

Outputs:
- mixed_dtypes.safetensors        F32, F16, BF16, F64, I32 and 0-element tensors with awkward values
                                  (subnormals, infinities, NaNs, -0, max finite) and metadata.
- mixed_dtypes_expected.json      for each tensor: dtype, shape and the float32 bit patterns numpy
                                  gives on conversion (null for the I32 tensor, which Tempo rejects).
- numpy_save_file.safetensors     the F32 and F16 tensors again, written by safetensors.numpy.save_file.
- linear.safetensors              an nn.Linear(5, 3) state_dict: weight [3, 5], bias [3].
- linear_io.safetensors           x [4, 5] and y = x @ weight.T + bias [4, 3] (float64, stored as F32).
- layer_norm.safetensors          an nn.LayerNorm(6) state_dict: weight [6], bias [6].
- layer_norm_io.safetensors       x [3, 6] (row 1 offset by 1000) and y [3, 6], PyTorch's definition
                                  (biased variance, eps = 1e-5) in float64, stored as F32.

PyTorch itself is not needed: the state dicts hold PyTorch's keys and layouts (weight [out, in]) and
values drawn from PyTorch's default initialisers' distributions (Linear: U(-1/sqrt(in), 1/sqrt(in))
for weight and bias); the LayerNorm affine parameters are random instead of ones/zeros so that a
mix-up shows. When torch is importable the expected outputs are also checked against torch's modules.
"""
import json
import os

import numpy as np
import safetensors
from safetensors import TensorSpec, serialize_file
from safetensors.numpy import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
assert safetensors.__version__ == "0.8.0", f"expected safetensors 0.8.0, got {safetensors.__version__}"


def path(name):
    return os.path.join(HERE, name)


def f32_bits(bits):
    return np.array(bits, dtype=np.uint32).view(np.float32)


def f16_bits(bits):
    return np.array(bits, dtype=np.uint16).view(np.float16)


# ---------------------------------------------------------------------------------------------
# (a) Mixed dtypes with awkward values.

f32 = np.concatenate([
    np.array([0.0, -0.0, 1.0, -np.pi, np.inf, -np.inf], dtype=np.float32),
    f32_bits([
        0x00000001,  # smallest subnormal, 1.4e-45
        0x807FFFFF,  # largest negative subnormal
        0x7F7FFFFF,  # max finite
        0xFF7FFFFF,  # -max finite
        0x7FC00000,  # the canonical quiet NaN
        0xFFC12345,  # a negative quiet NaN with a payload
    ]),
]).reshape(3, 4)

f16 = f16_bits([
    0x0000, 0x8000,  # +0, -0
    0x3C00, 0xC100,  # 1, -2.5
    0x7BFF, 0xFBFF,  # +-65504, max finite
    0x0001, 0x83FF,  # smallest subnormal 2^-24, largest negative subnormal
    0x0400,          # smallest normal 2^-14
    0x7C00, 0xFC00,  # +-inf
    0x7E00, 0xFE01,  # quiet NaNs (the second negative, with a payload)
    0x2E66,          # 0.1 rounded to half
])

# BF16 is the top half of a float32; numpy has no bfloat16, so the bits are spelled out.
bf16 = np.array([
    0x0000, 0x8000,  # +0, -0
    0x3F80, 0xC049,  # 1, -3.140625 (pi rounded)
    0x7F7F, 0xFF7F,  # +-3.3895e38, max finite
    0x0001, 0x807F,  # smallest subnormal 2^-133, largest negative subnormal
    0x7F80, 0xFF80,  # +-inf
    0x7FC0, 0xFFC1,  # quiet NaNs (the second negative, with a payload)
], dtype=np.uint16).reshape(2, 6)

f64 = np.array([0.1, -1e300, 1e-320, np.inf], dtype=np.float64)  # converted to float32 by rounding
i32 = np.array([1, -2, 3], dtype=np.int32)
empty = np.zeros((0, 3), dtype=np.float32)
scalar = np.array(2.5, dtype=np.float32)  # shape []

mixed = {
    "weights.f32": ("float32", f32),
    "weights.f16": ("float16", f16),
    "weights.bf16": ("bfloat16", bf16),
    "weights.f64": ("float64", f64),
    "counts.i32": ("int32", i32),
    "empty": ("float32", empty),
    "scalar": ("float32", scalar),
}
# One metadata key per file: the package writes __metadata__ from a randomly seeded hash map, so
# with two keys their order, and the file's bytes, would change from run to run.
mixed_metadata = {"note": "awkward values \u2014 \u00fcnicode, \"quotes\" and \\"}

# Every array is little-endian on the machines that run this; serialize_file copies the bytes.
assert np.little_endian
# np.ascontiguousarray would turn the 0-d scalar into shape [1]; copy(order="C") keeps shape [].
arrays = {name: array.copy(order="C") for name, (_, array) in mixed.items()}
specs = {
    name: TensorSpec(dtype=dtype, shape=list(arrays[name].shape), data_ptr=arrays[name].ctypes.data,
                     data_len=arrays[name].nbytes)
    for name, (dtype, _) in mixed.items()
}
serialize_file(specs, path("mixed_dtypes.safetensors"), metadata=mixed_metadata)


def expected_f32(dtype, array):
    if dtype == "bfloat16":
        return (array.astype(np.uint32) << 16).view(np.float32)
    if dtype == "int32":
        return None
    with np.errstate(over="ignore"):  # -1e300 becomes -inf in float32, as intended
        return array.astype(np.float32)


safetensors_dtype = {"float32": "F32", "float16": "F16", "bfloat16": "BF16", "float64": "F64", "int32": "I32"}
expected = {
    "metadata": mixed_metadata,
    "tensors": {
        name: {
            "dtype": safetensors_dtype[dtype],
            "shape": list(array.shape),
            "float32_bits": None if (e := expected_f32(dtype, array)) is None
            else [int(b) for b in e.reshape(-1).view(np.uint32)],
        }
        for name, (dtype, array) in mixed.items()
    },
}
with open(path("mixed_dtypes_expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")

save_file({"weights.f32": f32, "weights.f16": f16}, path("numpy_save_file.safetensors"),
          metadata={"writer": "safetensors.numpy.save_file"})

# The package reads back what it wrote (the BF16 tensor through its raw bytes).
with safetensors.safe_open(path("mixed_dtypes.safetensors"), framework="numpy") as f:
    assert f.metadata() == mixed_metadata
    for name in ("weights.f32", "weights.f16", "weights.f64", "empty", "scalar"):
        assert f.get_tensor(name).tobytes() == arrays[name].tobytes(), name
assert {k: v.tobytes() for k, v in load_file(path("numpy_save_file.safetensors")).items()} == \
    {"weights.f32": f32.tobytes(), "weights.f16": f16.tobytes()}

# ---------------------------------------------------------------------------------------------
# (b) Layer fixtures.

rng = np.random.default_rng(20261123)

# nn.Linear(5, 3): y = x @ weight.T + bias.
in_features, out_features = 5, 3
bound = 1 / np.sqrt(in_features)
linear = {
    "weight": rng.uniform(-bound, bound, (out_features, in_features)).astype(np.float32),
    "bias": rng.uniform(-bound, bound, (out_features,)).astype(np.float32),
}
x = rng.standard_normal((4, in_features)).astype(np.float32)
y = x.astype(np.float64) @ linear["weight"].astype(np.float64).T + linear["bias"].astype(np.float64)
linear_io = {"x": x, "y": y.astype(np.float32)}
save_file(linear, path("linear.safetensors"), metadata={"module": "torch.nn.Linear(5, 3)"})
save_file(linear_io, path("linear_io.safetensors"), metadata={"y": "x @ weight.T + bias, float64"})

# nn.LayerNorm(6): y = (x - mean) / sqrt(var + eps) * weight + bias over the last axis, var biased.
features, eps = 6, 1e-5
layer_norm = {
    "weight": (1 + 0.5 * rng.standard_normal(features)).astype(np.float32),
    "bias": (0.5 * rng.standard_normal(features)).astype(np.float32),
}
x = rng.standard_normal((3, features)).astype(np.float32)
x[1] += np.float32(1000)  # a large common offset: a one-pass E[x^2] - E[x]^2 variance loses it
x64 = x.astype(np.float64)
mean = x64.mean(axis=-1, keepdims=True)
var = ((x64 - mean) ** 2).mean(axis=-1, keepdims=True)
y = (x64 - mean) / np.sqrt(var + eps) * layer_norm["weight"].astype(np.float64) + layer_norm["bias"].astype(np.float64)
layer_norm_io = {"x": x, "y": y.astype(np.float32)}
save_file(layer_norm, path("layer_norm.safetensors"), metadata={"module": "torch.nn.LayerNorm(6)"})
save_file(layer_norm_io, path("layer_norm_io.safetensors"),
          metadata={"y": "(x - mean) / sqrt(biased var + eps) * weight + bias, eps = 1e-5, float64"})

try:
    import torch
except ImportError:
    torch = None
if torch is not None:
    with torch.no_grad():
        module = torch.nn.Linear(in_features, out_features)
        module.load_state_dict({k: torch.from_numpy(v) for k, v in linear.items()})
        got = module(torch.from_numpy(linear_io["x"]).double().float()).numpy()
        assert np.allclose(got, linear_io["y"], atol=1e-6), "torch Linear disagrees"
        module = torch.nn.LayerNorm(features, eps=eps)
        module.load_state_dict({k: torch.from_numpy(v) for k, v in layer_norm.items()})
        got = module(torch.from_numpy(layer_norm_io["x"])).numpy()
        assert np.allclose(got, layer_norm_io["y"], atol=1e-4), "torch LayerNorm disagrees"
    print("checked against torch", torch.__version__)

for name in sorted(os.listdir(HERE)):
    if not name.endswith(".py"):
        print(f"{os.path.getsize(path(name)):6d}  {name}")
