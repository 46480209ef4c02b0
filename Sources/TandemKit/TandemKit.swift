// The modules a program needs to train its own model with Tandem, under one import.
@_exported import Checkpoint
@_exported import Collective
@_exported import Datasets
@_exported import Models
@_exported import NN
@_exported import ONNX
@_exported import Optim
@_exported import Training
