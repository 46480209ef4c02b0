// Layers take and return Autograd tensors, so importing NN brings Autograd (and TensorCore).
@_exported import Autograd
