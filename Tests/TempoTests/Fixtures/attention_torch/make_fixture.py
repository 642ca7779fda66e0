#!/usr/bin/env python3
"""Writes the PyTorch attention-layer fixtures of Tests/TempoTests (outputs land beside this file).

    pip install torch "safetensors==0.8.0"
    python3 Tests/TempoTests/Fixtures/attention_torch/make_fixture.py

Each case is PyTorch's own module (or, where PyTorch has none, the module as the official PyTorch
tutorials publish it, restated below), run in eval mode, so Tempo's layers are checked against the
reference implementations rather than against a restatement of Tempo's reading of them.

Per case, <case>_model.safetensors is the module's state_dict() under PyTorch's keys, and
<case>_io.safetensors the inputs and outputs. Boolean masks are stored as float32 1.0/0.0 with
PyTorch's meaning (true = ignore / not allowed). Biases and layer-norm affines, which PyTorch
initialises to zeros and ones, are redrawn so that a missing or misplaced one shows.

Cases:
- mha_cross:     nn.MultiheadAttention(8, 2, kdim=5, vdim=7), sequence-major; query [4, 3, 8],
                 key [6, 3, 5], value [6, 3, 7], key_padding_mask [3, 6], boolean attn_mask [4, 6],
                 average_attn_weights=False: out [4, 3, 8], weights [3, 2, 4, 6].
- encoder:       nn.TransformerEncoder of 2 nn.TransformerEncoderLayer(12, 3, 10, activation="gelu",
                 norm_first=True, batch_first=True, layer_norm_eps=1e-4) with a final LayerNorm;
                 src [2, 5, 12], src_key_padding_mask [2, 5], the boolean causal mask with is_causal:
                 out [2, 5, 12].
- encoder_layer: one nn.TransformerEncoderLayer(8, 2, 6) (ReLU, post-norm, sequence-major);
                 src [5, 3, 8], src_key_padding_mask [3, 5]: out [5, 3, 8].
- bahdanau:      the seq2seq translation tutorial's BahdanauAttention(6): query [3, 1, 6], keys
                 [3, 5, 6]: context [3, 1, 6], weights [3, 1, 5].
- luong_general, luong_concat: the chatbot tutorial's Attn("general" / "concat", 6) with its
                 decoder's context bmm: hidden [1, 3, 6], encoder_outputs [5, 3, 6] (as the tutorial
                 passes them): weights [3, 1, 5], context [3, 1, 6].
- positional:    the transformer tutorial's PositionalEncoding(8, max_len=50): x [7, 2, 8]: y [7, 2, 8].

Gradients stay enabled while the modules run: that keeps nn.TransformerEncoderLayer and
nn.MultiheadAttention off their fused inference fast paths, whose masked-position handling differs.
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))


class BahdanauAttention(nn.Module):
    """pytorch.org/tutorials/intermediate/seq2seq_translation_tutorial.html"""

    def __init__(self, hidden_size):
        super().__init__()
        self.Wa = nn.Linear(hidden_size, hidden_size)
        self.Ua = nn.Linear(hidden_size, hidden_size)
        self.Va = nn.Linear(hidden_size, 1)

    def forward(self, query, keys):
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
        scores = scores.squeeze(2).unsqueeze(1)
        weights = F.softmax(scores, dim=-1)
        context = torch.bmm(weights, keys)
        return context, weights


class Attn(nn.Module):
    """pytorch.org/tutorials/beginner/chatbot_tutorial.html (Luong attention layer)"""

    def __init__(self, method, hidden_size):
        super().__init__()
        self.method = method
        self.hidden_size = hidden_size
        if self.method == "general":
            self.attn = nn.Linear(self.hidden_size, hidden_size)
        elif self.method == "concat":
            self.attn = nn.Linear(self.hidden_size * 2, hidden_size)
            self.v = nn.Parameter(torch.FloatTensor(hidden_size))

    def dot_score(self, hidden, encoder_output):
        return torch.sum(hidden * encoder_output, dim=2)

    def general_score(self, hidden, encoder_output):
        energy = self.attn(encoder_output)
        return torch.sum(hidden * energy, dim=2)

    def concat_score(self, hidden, encoder_output):
        energy = self.attn(torch.cat((hidden.expand(encoder_output.size(0), -1, -1), encoder_output), 2)).tanh()
        return torch.sum(self.v * energy, dim=2)

    def forward(self, hidden, encoder_outputs):
        if self.method == "general":
            attn_energies = self.general_score(hidden, encoder_outputs)
        elif self.method == "concat":
            attn_energies = self.concat_score(hidden, encoder_outputs)
        elif self.method == "dot":
            attn_energies = self.dot_score(hidden, encoder_outputs)
        attn_energies = attn_energies.t()
        return F.softmax(attn_energies, dim=1).unsqueeze(1)


class PositionalEncoding(nn.Module):
    """pytorch.org/tutorials/beginner/transformer_tutorial.html"""

    def __init__(self, d_model, dropout=0.1, max_len=5000):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        x = x + self.pe[: x.size(0)]
        return self.dropout(x)


def redraw_vectors(module):
    """Biases and norm affines (1-D parameters) to N(0.3, 0.5^2), concat's v included."""
    with torch.no_grad():
        for parameter in module.parameters():
            if parameter.dim() == 1:
                parameter.normal_(0.3, 0.5)


def save(name, module, io):
    state = {key: value.detach().contiguous().clone() for key, value in module.state_dict().items()}
    save_file(state, os.path.join(HERE, f"{name}_model.safetensors"))
    save_file({key: value.detach().float().contiguous() for key, value in io.items()},
              os.path.join(HERE, f"{name}_io.safetensors"))


def padding(batch, length, padded):
    """A key_padding_mask: True at (b, j) for j in padded[b]."""
    mask = torch.zeros(batch, length, dtype=torch.bool)
    for b, positions in padded.items():
        mask[b, positions] = True
    return mask


def main():
    torch.manual_seed(7)

    mha = nn.MultiheadAttention(8, 2, kdim=5, vdim=7)
    redraw_vectors(mha)
    mha.eval()
    query, key, value = torch.randn(4, 3, 8), torch.randn(6, 3, 5), torch.randn(6, 3, 7)
    key_padding = padding(3, 6, {1: [4, 5], 2: [0]})
    attn_mask = torch.tensor([[(i + 2 * j) % 5 == 0 for j in range(6)] for i in range(4)])
    out, weights = mha(query, key, value, key_padding_mask=key_padding, attn_mask=attn_mask,
                       average_attn_weights=False)
    save("mha_cross", mha, {"query": query, "key": key, "value": value, "key_padding_mask": key_padding,
                            "attn_mask": attn_mask, "out": out, "weights": weights})

    layer = nn.TransformerEncoderLayer(12, 3, 10, activation="gelu", norm_first=True, batch_first=True,
                                       layer_norm_eps=1e-4)
    encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(12), enable_nested_tensor=False)
    redraw_vectors(encoder)
    encoder.eval()
    src = torch.randn(2, 5, 12)
    src_padding = padding(2, 5, {1: [3, 4]})
    causal = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)  # True = not allowed
    out = encoder(src, mask=causal, src_key_padding_mask=src_padding, is_causal=True)
    save("encoder", encoder, {"src": src, "src_key_padding_mask": src_padding, "out": out})

    single = nn.TransformerEncoderLayer(8, 2, 6)
    redraw_vectors(single)
    single.eval()
    src = torch.randn(5, 3, 8)
    src_padding = padding(3, 5, {0: [4], 2: [1, 2]})
    out = single(src, src_key_padding_mask=src_padding)
    save("encoder_layer", single, {"src": src, "src_key_padding_mask": src_padding, "out": out})

    bahdanau = BahdanauAttention(6)
    redraw_vectors(bahdanau)
    bahdanau.eval()
    query, keys = torch.randn(3, 1, 6), torch.randn(3, 5, 6)
    context, weights = bahdanau(query, keys)
    save("bahdanau", bahdanau, {"query": query, "keys": keys, "context": context, "weights": weights})

    for method in ["general", "concat"]:
        luong = Attn(method, 6)
        if method == "concat":
            with torch.no_grad():
                luong.v.normal_(0, 0.5)  # torch.FloatTensor(n) is uninitialised memory
        redraw_vectors(luong)
        luong.eval()
        hidden, encoder_outputs = torch.randn(1, 3, 6), torch.randn(5, 3, 6)
        weights = luong(hidden, encoder_outputs)
        context = weights.bmm(encoder_outputs.transpose(0, 1))
        save(f"luong_{method}", luong, {"hidden": hidden, "encoder_outputs": encoder_outputs,
                                         "weights": weights, "context": context})

    positional = PositionalEncoding(8, max_len=50)
    positional.eval()
    x = torch.randn(7, 2, 8)
    save("positional", positional, {"x": x, "y": positional(x)})


if __name__ == "__main__":
    main()
