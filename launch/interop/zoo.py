"""The torch.nn model for a Tandem model: its Swift type, its config's `model:` section and the
sizes its data gives (as Sources/Training/Setup/ModelRegistry.swift builds it)."""

import math

import models
from sequential import SequentialModel


def build(kind, model, sizes):
    """The torch.nn counterpart of a Tandem model.

    kind: the Swift type (`ResNet`, `RecurrentLanguageModel`, ...), as outputs.json names it.
    model: the config's `model:` section (every key of ModelConfig; defaults filled in).
    sizes: input_shape (one sample), and as the model needs them classes, outputs (regression
        targets), vocabulary, context, source_length, target_length, image_shape, latent.
    """
    m, s = model, sizes
    act = m.get("activation", "relu")
    shape = s.get("input_shape")
    if kind in ("MLP", "MLPRegressor"):
        outputs = s["classes"] if kind == "MLP" else s["outputs"]
        return models.MLP(math.prod(shape), m["hidden_sizes"], outputs, m.get("dropout", 0.0), act)
    if kind == "LeNet5":
        return models.LeNet5(s["classes"], act)
    if kind == "ResNet":
        return models.ResNet(shape[0], m.get("channels") or [16, 32, 64], m.get("blocks", 1), s["classes"], act)
    if kind == "MobileNet":
        return models.MobileNet(shape[0], m.get("channels") or [32, 64, 128, 128, 256], s["classes"], act)
    if kind == "InceptionNet":
        return models.InceptionNet(shape[0], m.get("channels") or [32, 16, 32], s["classes"], act)
    if kind == "CharMLP":
        return models.CharMLP(s["vocabulary"], shape[0], m["embedding_size"], m["hidden_size"])
    if kind == "RecurrentLanguageModel":
        return models.RecurrentLanguageModel(
            s["recurrent"], s["vocabulary"], m["embedding_size"], m["hidden_size"], m["layers"])
    if kind == "SequenceClassifier":
        return models.SequenceClassifier(
            s["recurrent"], s["vocabulary"], m["embedding_size"], m["hidden_size"], m["layers"], s["classes"])
    if kind == "GPT":
        return models.GPT(
            s["vocabulary"], s["context"], m["embedding_size"], m["layers"], m["heads"],
            m.get("position_encoding", "learned"))
    if kind == "VisionTransformer":
        return models.VisionTransformer(shape, m["patch"], m["embedding_size"], m["layers"], m["heads"], s["classes"])
    if kind == "Seq2SeqTransformer":
        return models.Seq2SeqTransformer(
            s["vocabulary"], s["source_length"], s["target_length"], m["embedding_size"], m["layers"], m["heads"])
    if kind == "Autoencoder":
        return models.Autoencoder(math.prod(s["image_shape"]), m["hidden_size"], m["latent_size"])
    if kind == "VariationalAutoencoder":
        return models.VariationalAutoencoder(math.prod(s["image_shape"]), m["hidden_size"], m["latent_size"])
    if kind == "DCGAN":
        return models.DCGAN(s["image_shape"], m["latent_size"], m["hidden_size"])
    if kind in ("SequentialClassifier", "SequentialRegressor"):
        return SequentialModel(m["layers"], shape, s.get("vocabulary"))
    raise ValueError(f"no torch.nn definition of {kind}")
