"""The Tandem model zoo in torch.nn: the counterpart of Sources/Models.

Every class has the attributes of its Swift counterpart under the same names, so its
state_dict() names are those of Tandem's model.safetensors, and a file Tandem writes loads with
load_state_dict(strict=True). Each forward is the Swift one, in evaluation mode. The layers
they are built of are in layers.py.
"""

import math

import torch
from torch import nn
import torch.nn.functional as F

from layers import (
    Activation, BatchNorm, Sequential, TransformerBlock, TransformerDecoderBlock, activation, recurrent, sinusoidal)


class MLP(nn.Module):
    """MLP and MLPRegressor: hidden Linear + activation (+ dropout) layers, then the output layer."""

    def __init__(self, inputs, hidden_sizes, outputs, dropout=0.0, act="relu"):
        super().__init__()
        layers, width = [], inputs
        for h in hidden_sizes:
            layers += [nn.Linear(width, h), Activation(activation(act))]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        self.hidden = nn.ModuleList(layers)
        self.output = nn.Linear(width, outputs)

    def forward(self, x):
        x = x.flatten(1)
        for layer in self.hidden:
            x = layer(x)
        return self.output(x)


class LeNet5(nn.Module):
    """LeNet5: two convolutions with max pooling, three linear layers."""

    def __init__(self, classes=10, act="relu"):
        super().__init__()
        self.c1, self.s2 = nn.Conv2d(1, 6, 5, padding=2), nn.MaxPool2d(2)
        self.c3, self.s4 = nn.Conv2d(6, 16, 5), nn.MaxPool2d(2)
        self.f5, self.f6, self.output = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, classes)
        self.f = activation(act)

    def forward(self, x):
        f = self.f
        x = self.s2(f(self.c1(x)))
        x = self.s4(f(self.c3(x))).flatten(1)
        return self.output(f(self.f6(f(self.f5(x)))))


class BasicBlock(nn.Module):
    """ResNet's BasicBlock, with a 1x1 projection when the shape changes."""

    def __init__(self, inputs, outputs, stride=1, act="relu"):
        super().__init__()
        self.f = activation(act)
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride=stride, padding=1, bias=False)
        self.bn1 = BatchNorm(outputs)
        self.conv2 = nn.Conv2d(outputs, outputs, 3, padding=1, bias=False)
        self.bn2 = BatchNorm(outputs)
        reshapes = stride != 1 or inputs != outputs
        self.projection = nn.Conv2d(inputs, outputs, 1, stride=stride, bias=False) if reshapes else None
        self.projectionNorm = BatchNorm(outputs) if reshapes else None

    def forward(self, x):
        y = self.bn2(self.conv2(self.f(self.bn1(self.conv1(x)))))
        shortcut = self.projectionNorm(self.projection(x)) if self.projection is not None else x
        return self.f(y + shortcut)


class ResNet(nn.Module):
    def __init__(self, input_channels=1, channels=(16, 32, 64), blocks_per_stage=1, classes=10, act="relu"):
        super().__init__()
        self.f = activation(act)
        self.stem = nn.Conv2d(input_channels, channels[0], 3, padding=1, bias=False)
        self.stemNorm = BatchNorm(channels[0])
        blocks, width = [], channels[0]
        for s, c in enumerate(channels):
            for b in range(blocks_per_stage):
                blocks.append(BasicBlock(width, c, stride=2 if s > 0 and b == 0 else 1, act=act))
                width = c
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        x = self.f(self.stemNorm(self.stem(x)))
        for block in self.blocks:
            x = block(x)
        return self.head(x.mean(dim=(2, 3)))


class DepthwiseSeparable(nn.Module):
    """MobileNet's block: a depthwise 3x3 and a pointwise 1x1 convolution, each normalised."""

    def __init__(self, inputs, outputs, stride=1, act="relu"):
        super().__init__()
        self.f = activation(act)
        self.depthwise = nn.Conv2d(inputs, inputs, 3, stride=stride, padding=1, groups=inputs, bias=False)
        self.depthwiseNorm = BatchNorm(inputs)
        self.pointwise = nn.Conv2d(inputs, outputs, 1, bias=False)
        self.pointwiseNorm = BatchNorm(outputs)

    def forward(self, x):
        y = self.pointwiseNorm(self.pointwise(self.f(self.depthwiseNorm(self.depthwise(x)))))
        return self.f(y)


class MobileNet(nn.Module):
    def __init__(self, input_channels=1, channels=(32, 64, 128, 128, 256), classes=10, act="relu"):
        super().__init__()
        self.f = activation(act)
        self.stem = nn.Conv2d(input_channels, channels[0], 3, padding=1, bias=False)
        self.stemNorm = BatchNorm(channels[0])
        blocks, width = [], channels[0]
        for i, c in list(enumerate(channels))[1:]:
            blocks.append(DepthwiseSeparable(width, c, stride=2 if i > 1 and c != width else 1, act=act))
            width = c
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        x = self.f(self.stemNorm(self.stem(x)))
        for block in self.blocks:
            x = block(x)
        return self.head(x.mean(dim=(2, 3)))


class InceptionModule(nn.Module):
    """Four branches (1x1; 1x1, 3x3; 1x1, 5x5; 3x3 max pool, 1x1), concatenated."""

    def __init__(self, inputs, width, act="relu"):
        super().__init__()

        def unit(i, o, k):
            return [nn.Conv2d(i, o, k, padding=k // 2, bias=False), BatchNorm(o), Activation(activation(act))]

        reduce = max(width // 2, 1)
        self.branch1 = Sequential(*unit(inputs, width, 1))
        self.branch3 = Sequential(*unit(inputs, reduce, 1), *unit(reduce, width, 3))
        self.branch5 = Sequential(*unit(inputs, reduce, 1), *unit(reduce, width, 5))
        self.branchPool = Sequential(nn.MaxPool2d(3, stride=1, padding=1), *unit(inputs, width, 1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch3(x), self.branch5(x), self.branchPool(x)], dim=1)


class InceptionNet(nn.Module):
    def __init__(self, input_channels=1, channels=(32, 16, 32), classes=10, act="relu"):
        super().__init__()
        self.stem = Sequential(
            nn.Conv2d(input_channels, channels[0], 3, padding=1, bias=False), BatchNorm(channels[0]),
            Activation(activation(act)), nn.MaxPool2d(2))
        self.first = InceptionModule(channels[0], channels[1], act)
        self.second = InceptionModule(4 * channels[1], channels[2], act)
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(4 * channels[2], classes)

    def forward(self, x):
        x = self.second(self.pool(self.first(self.stem(x))))
        return self.head(x.mean(dim=(2, 3)))


class CharMLP(nn.Module):
    """CharMLP: the context's character vectors, concatenated, through a tanh layer."""

    def __init__(self, vocabulary, context, embedding_size, hidden_size):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, embedding_size)
        self.hidden = nn.Linear(context * embedding_size, hidden_size)
        self.output = nn.Linear(hidden_size, vocabulary)

    def forward(self, ids):
        return self.output(torch.tanh(self.hidden(self.embedding(ids).flatten(1))))


class RecurrentLanguageModel(nn.Module):
    """RecurrentLanguageModel: the next token's logits at every position, (N·T, V)."""

    def __init__(self, kind, vocabulary, embedding_size, hidden_size, layers=1):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, embedding_size)
        self.recurrent = recurrent(kind, embedding_size, hidden_size, layers)
        self.head = nn.Linear(hidden_size, vocabulary)

    def forward(self, ids):
        states, _ = self.recurrent(self.embedding(ids))
        return self.head(states).reshape(-1, self.head.out_features)


class SequenceClassifier(nn.Module):
    """SequenceClassifier: a class from the last layer's final hidden state."""

    def __init__(self, kind, vocabulary, embedding_size, hidden_size, layers=1, classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, embedding_size)
        self.recurrent = recurrent(kind, embedding_size, hidden_size, layers)
        self.head = nn.Linear(hidden_size, classes)

    def forward(self, ids):
        states, _ = self.recurrent(self.embedding(ids))
        return self.head(states[:, -1])


class GPT(nn.Module):
    """GPT: token and position embeddings, causal pre-norm blocks, a final norm, an untied head."""

    def __init__(self, vocabulary, context, width, layers, heads, positions="learned"):
        super().__init__()
        self.context = context
        self.tokenEmbedding = nn.Embedding(vocabulary, width)
        self.positionEmbedding = nn.Embedding(context, width) if positions == "learned" else None
        self.register_buffer("sinusoid", sinusoidal(context, width) if positions == "sinusoidal" else None,
                             persistent=False)
        self.blocks = nn.ModuleList(TransformerBlock(width, heads) for _ in range(layers))
        self.finalNorm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocabulary, bias=False)

    def forward(self, ids):
        t = ids.shape[1]
        tokens = self.tokenEmbedding(ids)
        if self.sinusoid is not None:
            x = tokens * math.sqrt(tokens.shape[2]) + self.sinusoid[:t]
        else:
            x = tokens + self.positionEmbedding(torch.arange(t))
        for block in self.blocks:
            x = block(x, causal=True)
        logits = self.head(self.finalNorm(x))
        return logits.reshape(-1, logits.shape[2])


class VisionTransformer(nn.Module):
    """ViT: patches by a strided convolution, a class token, position embeddings, pre-norm blocks."""

    def __init__(self, image_shape, patch, width, layers, heads, classes):
        super().__init__()
        c, h, w = image_shape
        patches = (h // patch) * (w // patch)
        self.patchEmbedding = nn.Conv2d(c, width, patch, stride=patch)
        self.classToken = nn.Parameter(torch.zeros(1, 1, width))
        self.positionEmbedding = nn.Parameter(torch.zeros(1, patches + 1, width))
        self.blocks = nn.ModuleList(TransformerBlock(width, heads) for _ in range(layers))
        self.finalNorm = nn.LayerNorm(width)
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        n = x.shape[0]
        patches = self.patchEmbedding(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.classToken.expand(n, -1, -1), patches], dim=1) + self.positionEmbedding
        for block in self.blocks:
            x = block(x)
        return self.head(self.finalNorm(x[:, 0]))


class Seq2SeqTransformer(nn.Module):
    """The encoder-decoder: inputs are the source ids and the decoder's input ids, side by side."""

    def __init__(self, vocabulary, source_length, target_length, width, layers, heads):
        super().__init__()
        self.sourceLength, self.targetLength = source_length, target_length
        self.tokenEmbedding = nn.Embedding(vocabulary, width)
        self.positionEmbedding = nn.Embedding(max(source_length, target_length), width)
        self.encoder = nn.ModuleList(TransformerBlock(width, heads) for _ in range(layers))
        self.encoderNorm = nn.LayerNorm(width)
        self.decoder = nn.ModuleList(TransformerDecoderBlock(width, heads) for _ in range(layers))
        self.decoderNorm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocabulary)

    def embed(self, ids):
        return self.tokenEmbedding(ids) + self.positionEmbedding(torch.arange(ids.shape[1]))

    def forward(self, ids):
        source, target = ids[:, :self.sourceLength], ids[:, self.sourceLength:]
        memory = self.embed(source)
        for block in self.encoder:
            memory = block(memory)
        memory = self.encoderNorm(memory)
        x = self.embed(target)
        for block in self.decoder:
            x = block(x, memory)
        logits = self.head(self.decoderNorm(x))
        return logits.reshape(-1, logits.shape[2])


class Autoencoder(nn.Module):
    """Autoencoder: pixels to a code and back; the outputs are the reconstruction's logits."""

    def __init__(self, pixels, hidden, code):
        super().__init__()
        self.encoderHidden, self.encoderCode = nn.Linear(pixels, hidden), nn.Linear(hidden, code)
        self.decoderHidden, self.decoderOutput = nn.Linear(code, hidden), nn.Linear(hidden, pixels)

    def encode(self, x):
        return self.encoderCode(F.relu(self.encoderHidden(x.flatten(1))))

    def decode(self, z):
        return self.decoderOutput(F.relu(self.decoderHidden(z)))

    def forward(self, x):
        return {"logits": self.decode(self.encode(x))}


class VariationalAutoencoder(nn.Module):
    """VAE: the outputs are the posterior's mean and log variance and the mean's reconstruction logits."""

    def __init__(self, pixels, hidden, latent):
        super().__init__()
        self.encoderHidden = nn.Linear(pixels, hidden)
        self.encoderMean, self.encoderLogVariance = nn.Linear(hidden, latent), nn.Linear(hidden, latent)
        self.decoderHidden, self.decoderOutput = nn.Linear(latent, hidden), nn.Linear(hidden, pixels)

    def forward(self, x):
        h = F.relu(self.encoderHidden(x.flatten(1)))
        mean, log_variance = self.encoderMean(h), self.encoderLogVariance(h)
        logits = self.decoderOutput(F.relu(self.decoderHidden(mean)))
        return {"mean": mean, "log_variance": log_variance, "logits": logits}


class DCGANGenerator(nn.Module):
    def __init__(self, latent, width, image_shape):
        super().__init__()
        self.start = (2 * width, image_shape[1] // 4, image_shape[2] // 4)
        self.projection = nn.Linear(latent, self.start[0] * self.start[1] * self.start[2], bias=False)
        self.projectionNorm = BatchNorm(2 * width)
        self.upsample1 = nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False)
        self.norm1 = BatchNorm(width)
        self.upsample2 = nn.ConvTranspose2d(width, image_shape[0], 4, stride=2, padding=1)

    def forward(self, z):
        x = self.projection(z).reshape(z.shape[0], *self.start)
        h = F.relu(self.norm1(self.upsample1(F.relu(self.projectionNorm(x)))))
        return torch.tanh(self.upsample2(h))


class DCGANDiscriminator(nn.Module):
    def __init__(self, width, image_shape):
        super().__init__()
        self.downsample1 = nn.Conv2d(image_shape[0], width, 4, stride=2, padding=1)
        self.downsample2 = nn.Conv2d(width, 2 * width, 4, stride=2, padding=1, bias=False)
        self.norm2 = BatchNorm(2 * width)
        self.classifier = nn.Linear(2 * width * (image_shape[1] // 4) * (image_shape[2] // 4), 1)

    def forward(self, x):
        h = F.leaky_relu(self.downsample1(x), 0.2)
        g = F.leaky_relu(self.norm2(self.downsample2(h)), 0.2)
        return self.classifier(g.flatten(1))


class DCGAN(nn.Module):
    """DCGAN: from latent vectors, the generator's images and the discriminator's logits on them."""

    def __init__(self, image_shape, latent, width):
        super().__init__()
        self.generator = DCGANGenerator(latent, width, image_shape)
        self.discriminator = DCGANDiscriminator(width, image_shape)

    def forward(self, z):
        images = self.generator(z)
        return {"images": images, "discriminator_logits": self.discriminator(images)}
