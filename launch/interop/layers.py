"""The layers of Tandem's models in torch.nn: the counterpart of Sources/NN/Layers.

Each keeps the attribute names of its Swift counterpart, so the models built from them
(models.py, sequential.py) have Tandem's state_dict names.
"""

import math

import torch
from torch import nn
import torch.nn.functional as F


def activation(name):
    """The function a config's activation name stands for (Sources/Training/Config/ActivationName.swift)."""
    return {
        "relu": F.relu,
        "leaky_relu": lambda x: F.leaky_relu(x, 0.01),
        "elu": F.elu,
        "gelu": F.gelu,
        "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
        "silu": F.silu,
        "swish": F.silu,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "softplus": F.softplus,
    }[name]


class Activation(nn.Module):
    """ActivationLayer: a function without parameters."""

    def __init__(self, function):
        super().__init__()
        self.function = function

    def forward(self, x):
        return self.function(x)


class BatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm: nn.BatchNorm1d and 2d in one, over the channel axis of (N, C, ...)."""

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"batch norm needs (N, C, ...), got {tuple(input.shape)}")


class Sequential(nn.Module):
    """Tandem's Sequential: its layers are the list `layers` (`stem.layers.0.weight`)."""

    def __init__(self, *layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


RECURRENT = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def recurrent(kind, input_size, hidden_size, layers=1):
    """Recurrent: nn.RNN (tanh), nn.LSTM or nn.GRU, batch first."""
    return RECURRENT[kind](input_size, hidden_size, num_layers=layers, batch_first=True)


def make_recurrent_layer(kind, input_size, hidden_size, layers, keeps_sequence):
    """RecurrentLayer: the stack as a layer, giving the last step's h or every step's."""
    base = RECURRENT[kind]

    class RecurrentLayer(base):
        def forward(self, x):
            output, _ = super().forward(x)
            return output if keeps_sequence else output[:, -1]

    return RecurrentLayer(input_size, hidden_size, num_layers=layers, batch_first=True)


class MultiHeadAttention(nn.Module):
    """MultiHeadAttention: query, key, value and output projections, scaled dot products."""

    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = nn.Linear(width, width), nn.Linear(width, width), nn.Linear(width, width)
        self.output = nn.Linear(width, width)

    def forward(self, x, context=None, causal=False):
        source = x if context is None else context
        b, tq, c = x.shape
        tk, d = source.shape[1], c // self.heads

        def split(t, length):
            return t.reshape(b, length, self.heads, d).transpose(1, 2)

        q, k, v = split(self.query(x), tq), split(self.key(source), tk), split(self.value(source), tk)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        return self.output(y.transpose(1, 2).reshape(b, tq, c))


class FeedForward(nn.Module):
    """FeedForward: up to 4C, GELU, down to C."""

    def __init__(self, width, expansion=4, approximate_gelu=False):
        super().__init__()
        self.up, self.down = nn.Linear(width, expansion * width), nn.Linear(expansion * width, width)
        self.approximate = "tanh" if approximate_gelu else "none"

    def forward(self, x):
        return self.down(F.gelu(self.up(x), approximate=self.approximate))


class TransformerBlock(nn.Module):
    """TransformerBlock: pre-norm attention and feed-forward, each around a residual."""

    def __init__(self, width, heads):
        super().__init__()
        self.attentionNorm = nn.LayerNorm(width)
        self.attention = MultiHeadAttention(width, heads)
        self.feedForwardNorm = nn.LayerNorm(width)
        self.feedForward = FeedForward(width)

    def forward(self, x, causal=False):
        h = x + self.attention(self.attentionNorm(x), causal=causal)
        return h + self.feedForward(self.feedForwardNorm(h))


class TransformerDecoderBlock(nn.Module):
    """TransformerDecoderBlock: causal self-attention, attention to the encoder's memory, feed-forward."""

    def __init__(self, width, heads):
        super().__init__()
        self.selfAttentionNorm, self.selfAttention = nn.LayerNorm(width), MultiHeadAttention(width, heads)
        self.crossAttentionNorm, self.crossAttention = nn.LayerNorm(width), MultiHeadAttention(width, heads)
        self.feedForwardNorm, self.feedForward = nn.LayerNorm(width), FeedForward(width)

    def forward(self, x, memory):
        h = x + self.selfAttention(self.selfAttentionNorm(x), causal=True)
        h = h + self.crossAttention(self.crossAttentionNorm(h), context=memory)
        return h + self.feedForward(self.feedForwardNorm(h))


def sinusoidal(positions, width):
    """PositionalEncoding.sinusoidal: sin on even features, cos on odd ones."""
    table = torch.zeros(positions, width, dtype=torch.float64)
    for pos in range(positions):
        for i in range(0, width, 2):
            angle = pos / math.pow(10000, i / width)
            table[pos, i] = math.sin(angle)
            if i + 1 < width:
                table[pos, i + 1] = math.cos(angle)
    return table.float()
