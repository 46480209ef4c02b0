#!/usr/bin/env python3
"""Writes launch/interop/torch_names.json: the state_dict names, dtypes and shapes of the torch.nn
definition (models.py) of every zoo model, at small sizes.

    python3 launch/interop/torch_names.py

CI needs no torch: Tests/TrainingTests/TorchNamesTests.swift builds the same models in Swift from
each case's `model` and `sizes` and checks that they save exactly these tensors. Run this again
after changing a model on either side.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from zoo import build  # noqa: E402

DTYPES = {"torch.float32": "F32", "torch.int64": "I64"}

CNN_LAYERS = [
    {"conv": {"out": 4, "kernel": 3, "padding": 1, "bias": False, "name": "stem"}},
    {"batch_norm": {"name": "stem_norm"}},
    "relu",
    {"residual": {"name": "block", "projection": True, "layers": [
        {"conv": {"out": 6, "kernel": 3, "stride": 2, "padding": 1}}, "relu",
        {"conv": {"out": 6, "kernel": 3, "padding": 1}}, "batch_norm"]}},
    {"prelu": {}},
    {"conv_transpose": {"out": 2, "kernel": 2, "stride": 2, "name": "up"}},
    {"avg_pool": {"kernel": 2}},
    "flatten",
    {"layer_norm": {}},
    {"dropout": {"p": 0.1}},
    {"linear": {"out": 3, "name": "head"}},
]

RECURRENT_LAYERS = [
    {"embedding": {"dim": 4, "name": "embedding"}},
    {"lstm": {"hidden": 5, "layers": 2, "keep": "sequence"}},
    {"layer_norm": {}},
    {"rnn": {"hidden": 4, "keep": "sequence"}},
    {"gru": {"hidden": 3, "name": "summary"}},
    {"linear": {"out": 6}},
    "tanh",
    {"linear": {"out": 3, "name": "head"}},
]

CASES = [
    ("mlp", "MLP", {"hidden_sizes": [6, 5], "dropout": 0.1}, {"input_shape": [1, 3, 4], "classes": 3}),
    ("mlp_regressor", "MLPRegressor", {"hidden_sizes": [4]}, {"input_shape": [5], "outputs": 2}),
    ("lenet5", "LeNet5", {}, {"input_shape": [1, 28, 28], "classes": 10}),
    ("resnet", "ResNet", {"channels": [2, 4], "blocks": 2}, {"input_shape": [3, 8, 8], "classes": 3}),
    ("mobilenet", "MobileNet", {"channels": [4, 8, 8, 16]}, {"input_shape": [1, 8, 8], "classes": 3}),
    ("inception", "InceptionNet", {"channels": [4, 2, 4]}, {"input_shape": [1, 8, 8], "classes": 3}),
    ("char_mlp", "CharMLP", {"embedding_size": 2, "hidden_size": 5}, {"input_shape": [3], "vocabulary": 7}),
    ("rnn_lm", "RecurrentLanguageModel", {"embedding_size": 3, "hidden_size": 4, "layers": 2},
     {"input_shape": [5], "vocabulary": 7, "recurrent": "rnn"}),
    ("lstm_lm", "RecurrentLanguageModel", {"embedding_size": 3, "hidden_size": 4, "layers": 1},
     {"input_shape": [5], "vocabulary": 7, "recurrent": "lstm"}),
    ("lstm_classifier", "SequenceClassifier", {"embedding_size": 3, "hidden_size": 4, "layers": 2},
     {"input_shape": [5], "vocabulary": 6, "classes": 3, "recurrent": "lstm"}),
    ("gru_classifier", "SequenceClassifier", {"embedding_size": 3, "hidden_size": 4, "layers": 1},
     {"input_shape": [5], "vocabulary": 6, "classes": 3, "recurrent": "gru"}),
    ("gpt", "GPT", {"embedding_size": 8, "layers": 2, "heads": 2, "position_encoding": "learned"},
     {"input_shape": [6], "vocabulary": 11, "context": 6}),
    ("gpt_sinusoidal", "GPT", {"embedding_size": 8, "layers": 1, "heads": 2, "position_encoding": "sinusoidal"},
     {"input_shape": [6], "vocabulary": 11, "context": 6}),
    ("vit", "VisionTransformer", {"patch": 4, "embedding_size": 8, "layers": 1, "heads": 2},
     {"input_shape": [1, 8, 8], "classes": 3}),
    ("transformer", "Seq2SeqTransformer", {"embedding_size": 8, "layers": 1, "heads": 2},
     {"input_shape": [7], "vocabulary": 9, "source_length": 4, "target_length": 3}),
    ("autoencoder", "Autoencoder", {"hidden_size": 5, "latent_size": 3}, {"image_shape": [1, 4, 4]}),
    ("vae", "VariationalAutoencoder", {"hidden_size": 5, "latent_size": 3}, {"image_shape": [1, 4, 4]}),
    ("dcgan", "DCGAN", {"hidden_size": 3, "latent_size": 4}, {"image_shape": [1, 8, 8]}),
    ("sequential_cnn", "SequentialClassifier", {"layers": CNN_LAYERS}, {"input_shape": [1, 8, 8]}),
    ("sequential_recurrent", "SequentialClassifier", {"layers": RECURRENT_LAYERS},
     {"input_shape": [5], "vocabulary": 6}),
]


def main():
    out = []
    for name, kind, model, sizes in CASES:
        state = build(kind, model, sizes).state_dict()
        tensors = [[k, DTYPES[str(v.dtype)], list(v.shape)] for k, v in state.items()]
        out.append({"name": name, "type": kind, "model": model, "sizes": sizes, "tensors": tensors})
    path = Path(__file__).resolve().parent / "torch_names.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {len(out)} models, {sum(len(c['tensors']) for c in out)} tensors to {path}")


if __name__ == "__main__":
    main()
