"""Models declared in YAML (`model.name: sequential`) in torch.nn: the counterpart of
Sources/Training/Setup/SequentialPlanner.swift and SequentialBuilder.swift.

Each entry of `model.layers` becomes the torch.nn layer docs/MODELS.md names beside its kind,
under the name Tandem gives it (its `name:` key, else its index), with shapes inferred from one
sample's input shape as the planner infers them.
"""

from torch import nn
import torch.nn.functional as F

from layers import Activation, BatchNorm, activation, make_recurrent_layer


def pair(value, default=None):
    """An (h, w) key given as one integer or [h, w]."""
    if value is None:
        return default
    return tuple(value) if isinstance(value, list) else (value, value)


def split(entry):
    """(kind, name, options) of one list entry: `relu`, `{conv: {...}}`, `{conv: {...}, name: c1}`."""
    if isinstance(entry, str):
        return entry, None, {}
    kinds = [k for k in entry if k != "name"]
    kind, value, name = kinds[0], entry[kinds[0]], entry.get("name")
    if isinstance(value, list):
        value = {"layers": value}
    options = dict(value or {})
    name = options.pop("name", name)
    return kind, name, options


class NamedSequential(nn.Module):
    """NamedSequential: layers registered under their names (`stem.weight`, `3.1.weight`)."""

    def __init__(self, layers):
        super().__init__()
        self.order = [name for name, _ in layers]
        for name, layer in layers:
            self.add_module(name, layer)

    def forward(self, x):
        for name in self.order:
            x = getattr(self, name)(x)
        return x


class Residual(nn.Module):
    """Residual: the input plus its layers' output, with an optional projection of the input."""

    def __init__(self, layers, projection=None):
        super().__init__()
        self.order = [name for name, _ in layers]
        for name, layer in layers:
            self.add_module(name, layer)
        if projection is not None:
            self.projection = projection

    def forward(self, x):
        y = x
        for name in self.order:
            y = getattr(self, name)(y)
        return y + (self.projection(x) if hasattr(self, "projection") else x)


class GlobalAvgPool(nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3))


ACTIVATIONS = {"relu", "tanh", "sigmoid", "silu", "swish", "leaky_relu", "elu", "gelu", "softplus"}


def activation_layer(kind, o):
    if kind == "leaky_relu":
        slope = o.get("slope", 0.01)
        return Activation(lambda x: F.leaky_relu(x, slope))
    if kind == "elu":
        alpha = o.get("alpha", 1.0)
        return Activation(lambda x: F.elu(x, alpha))
    if kind == "gelu":
        return Activation(activation("gelu_tanh" if o.get("approximate", False) else "gelu"))
    if kind == "softplus":
        beta, threshold = o.get("beta", 1.0), o.get("threshold", 20.0)
        return Activation(lambda x: F.softplus(x, beta, threshold))
    return Activation(activation(kind))


def conv_size(n, k, s, p, d):
    return (n + 2 * p - (d * (k - 1) + 1)) // s + 1


def layer(kind, o, x, vocabulary):
    """The torch layer of one entry and its output shape, given its input shape x (one sample)."""
    if kind == "linear":
        return nn.Linear(x[-1], o["out"], bias=o.get("bias", True)), x[:-1] + [o["out"]]
    if kind in ("conv", "conv_transpose"):
        k, s = pair(o["kernel"]), pair(o.get("stride"), (1, 1))
        p, d = pair(o.get("padding"), (0, 0)), pair(o.get("dilation"), (1, 1))
        groups, bias = o.get("groups", 1), o.get("bias", True)
        if kind == "conv":
            conv = nn.Conv2d(x[0], o["out"], k, stride=s, padding=p, dilation=d, groups=groups, bias=bias)
            return conv, [o["out"], conv_size(x[1], k[0], s[0], p[0], d[0]), conv_size(x[2], k[1], s[1], p[1], d[1])]
        op = pair(o.get("output_padding"), (0, 0))
        conv = nn.ConvTranspose2d(
            x[0], o["out"], k, stride=s, padding=p, output_padding=op, groups=groups, bias=bias, dilation=d)
        size = [(x[i + 1] - 1) * s[i] - 2 * p[i] + d[i] * (k[i] - 1) + op[i] + 1 for i in range(2)]
        return conv, [o["out"]] + size
    if kind in ("max_pool", "avg_pool"):
        k = o["kernel"]
        s, p = o.get("stride", k), o.get("padding", 0)
        pool = nn.MaxPool2d(k, s, p) if kind == "max_pool" else nn.AvgPool2d(k, s, p)
        return pool, [x[0], (x[1] + 2 * p - k) // s + 1, (x[2] + 2 * p - k) // s + 1]
    if kind == "global_avg_pool":
        return GlobalAvgPool(), [x[0]]
    if kind == "flatten":
        size = 1
        for n in x:
            size *= n
        return nn.Flatten(1), [size]
    if kind == "batch_norm":
        return BatchNorm(x[0], eps=o.get("eps", 1e-5), momentum=o.get("momentum", 0.1)), x
    if kind == "layer_norm":
        return nn.LayerNorm(x[-1], eps=o.get("eps", 1e-5)), x
    if kind == "dropout":
        return nn.Dropout(o.get("p", 0.5)), x
    if kind == "embedding":
        return nn.Embedding(o.get("count", vocabulary), o["dim"]), x + [o["dim"]]
    if kind in ("rnn", "lstm", "gru"):
        keeps = o.get("keep", "last") == "sequence"
        rnn = make_recurrent_layer(kind, x[1], o["hidden"], o.get("layers", 1), keeps)
        return rnn, [x[0], o["hidden"]] if keeps else [o["hidden"]]
    if kind == "prelu":
        return nn.PReLU(1 if o.get("shared", False) else x[0]), x
    if kind == "residual":
        inner, y = plan(o["layers"], x, vocabulary)
        projection = None
        if y != x:
            if len(x) == 3:
                stride = tuple(next(s for s in range(1, max(a, 1) + 1) if (a - 1) // s + 1 == b)
                               for a, b in zip(x[1:], y[1:]))
                projection = nn.Conv2d(x[0], y[0], 1, stride=stride, bias=False)
            else:
                projection = nn.Linear(x[0], y[0], bias=False)
        return Residual(inner, projection), y
    if kind in ACTIVATIONS:
        return activation_layer(kind, o), x
    raise ValueError(f"unknown layer kind {kind}")


def plan(entries, x, vocabulary=None):
    """The named layers of a list and the output shape."""
    layers = []
    for i, entry in enumerate(entries):
        kind, name, options = split(entry)
        module, x = layer(kind, options, list(x), vocabulary)
        layers.append((name or str(i), module))
    return layers, x


class SequentialModel(NamedSequential):
    """SequentialClassifier and SequentialRegressor: the declared layers; logits of rank > 2 as rows."""

    def __init__(self, entries, input_shape, vocabulary=None):
        super().__init__(plan(entries, input_shape, vocabulary)[0])

    def forward(self, x):
        y = super().forward(x)
        return y.reshape(-1, y.shape[-1]) if y.dim() > 2 else y
