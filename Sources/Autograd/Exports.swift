// Autograd's API speaks in TensorCore's types (NDArray, Shape, PhiloxRNG), so importing
// Autograd brings them along; layers above never import TensorCore directly.
@_exported import TensorCore
