#!/usr/bin/env python3
"""Writes the locuslab TCN fixture of Tests/TempoTests (outputs land beside this file).

    pip install torch "safetensors==0.8.0"
    python3 Tests/TempoTests/Fixtures/tcn_locuslab/make_fixture.py

The network is locuslab/TCN's `TemporalConvNet` (github.com/locuslab/TCN, tcn.py), restated below as
it is published: weight-normalised Conv1d with padding (K-1)*d and a Chomp1d, ReLU, dropout, twice;
a 1x1 downsample when the channels change; and the ReLU of the residual sum. Run by PyTorch in eval
mode, so Tempo's TCN is checked against the reference implementation, not against itself.

Outputs:
- model.safetensors  the module's state_dict() as PyTorch gives it, including locuslab's duplicate
                     `network.{i}.net.0.*` / `net.4.*` keys (cloned, as safetensors stores no shared
                     tensors). The weight_g are scaled away from ||weight_v|| so that a mix-up of g
                     and v, or a missing normalisation, shows.
- io.safetensors     x [2, 3, 40] (longer than the receptive field, 29) and y [2, 4, 40] = net(x).
"""
import os

import torch
import torch.nn as nn
from safetensors.torch import save_file
from torch.nn.utils import weight_norm

HERE = os.path.dirname(os.path.abspath(__file__))


class Chomp1d(nn.Module):
    def __init__(self, chomp_size):
        super().__init__()
        self.chomp_size = chomp_size

    def forward(self, x):
        return x[:, :, :-self.chomp_size].contiguous()


class TemporalBlock(nn.Module):
    def __init__(self, n_inputs, n_outputs, kernel_size, stride, dilation, padding, dropout=0.2):
        super().__init__()
        self.conv1 = weight_norm(nn.Conv1d(n_inputs, n_outputs, kernel_size,
                                           stride=stride, padding=padding, dilation=dilation))
        self.chomp1 = Chomp1d(padding)
        self.relu1 = nn.ReLU()
        self.dropout1 = nn.Dropout(dropout)
        self.conv2 = weight_norm(nn.Conv1d(n_outputs, n_outputs, kernel_size,
                                           stride=stride, padding=padding, dilation=dilation))
        self.chomp2 = Chomp1d(padding)
        self.relu2 = nn.ReLU()
        self.dropout2 = nn.Dropout(dropout)
        self.net = nn.Sequential(self.conv1, self.chomp1, self.relu1, self.dropout1,
                                 self.conv2, self.chomp2, self.relu2, self.dropout2)
        self.downsample = nn.Conv1d(n_inputs, n_outputs, 1) if n_inputs != n_outputs else None
        self.relu = nn.ReLU()
        self.init_weights()

    def init_weights(self):
        self.conv1.weight.data.normal_(0, 0.01)
        self.conv2.weight.data.normal_(0, 0.01)
        if self.downsample is not None:
            self.downsample.weight.data.normal_(0, 0.01)

    def forward(self, x):
        out = self.net(x)
        res = x if self.downsample is None else self.downsample(x)
        return self.relu(out + res)


class TemporalConvNet(nn.Module):
    def __init__(self, num_inputs, num_channels, kernel_size=2, dropout=0.2):
        super().__init__()
        layers = []
        num_levels = len(num_channels)
        for i in range(num_levels):
            dilation_size = 2 ** i
            in_channels = num_inputs if i == 0 else num_channels[i - 1]
            out_channels = num_channels[i]
            layers += [TemporalBlock(in_channels, out_channels, kernel_size, stride=1, dilation=dilation_size,
                                     padding=(kernel_size - 1) * dilation_size, dropout=dropout)]
        self.network = nn.Sequential(*layers)

    def forward(self, x):
        return self.network(x)


def main():
    torch.manual_seed(1234)
    net = TemporalConvNet(num_inputs=3, num_channels=[6, 6, 4], kernel_size=3, dropout=0.2)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith("weight_g"):
                p.mul_(torch.empty_like(p).uniform_(0.5, 2.0))
            elif name.endswith("bias"):
                p.copy_(torch.empty_like(p).uniform_(-0.3, 0.3))
            elif name.endswith("weight_v") or name.endswith("downsample.weight"):
                p.copy_(torch.randn_like(p) * 0.4)
    net.eval()
    x = torch.randn(2, 3, 40)
    with torch.no_grad():
        y = net(x)
    state = {k: v.detach().clone().contiguous() for k, v in net.state_dict().items()}
    save_file(state, os.path.join(HERE, "model.safetensors"), metadata={"source": "locuslab TemporalConvNet(3, [6, 6, 4], kernel_size=3)"})
    save_file({"x": x.contiguous(), "y": y.contiguous()}, os.path.join(HERE, "io.safetensors"))
    print(len(state), "tensors;", list(state)[:8], "...; y", tuple(y.shape), "live", float((y > 0).float().mean()))


if __name__ == "__main__":
    main()
