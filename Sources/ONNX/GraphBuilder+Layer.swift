import Models
import NN

extension GraphBuilder {
    /// Any single-input layer of the zoo or of a sequential model, by its type.
    /// - Parameters:
    ///   - layer: the layer (in evaluation mode: dropout is nothing, batch norm uses its running statistics).
    ///   - x: its input.
    ///   - scope: its dotted name, the prefix of its parameters' names.
    public func layer(_ layer: any Layer, _ x: ONNXValue, scope: String) throws -> ONNXValue {
        func child(_ name: String) -> String { scope.isEmpty ? name : "\(scope).\(name)" }
        switch layer {
        case let l as Linear: return linear(l, x, scope: scope)
        case let l as Conv2d: return conv2d(l, x, scope: scope)
        case let l as ConvTranspose2d: return convTranspose2d(l, x, scope: scope)
        case let l as BatchNorm: return batchNorm(l, x, scope: scope)
        case let l as LayerNorm: return layerNorm(l, x, scope: scope)
        case let l as MaxPool2d: return maxPool(l, x, scope: scope)
        case let l as AvgPool2d: return avgPool(l, x, scope: scope)
        case is GlobalAvgPool2d: return globalAvgPool(x, scope: scope)
        case is Flatten: return flatten(x, scope: scope)
        case is Dropout: return x
        case let l as ActivationLayer: return activation(l.function, x, scope: scope)
        case let l as PReLU: return prelu(l, x, scope: scope)
        case let l as Embedding: return embedding(l.weight, x, scope: scope)
        case let l as Sequential:
            return try l.layers.enumerated().reduce(x) { try self.layer($1.1, $0, scope: child("layers.\($1.0)")) }
        case let l as NamedSequential:
            return try l.layers.reduce(x) { try self.layer($1.layer, $0, scope: child($1.name)) }
        case let l as Residual:
            let body = try l.body.layers.reduce(x) { try self.layer($1.layer, $0, scope: child($1.name)) }
            let shortcut = try l.projection.map { try self.layer($0, x, scope: child("projection")) } ?? x
            return add(body, shortcut, scope: scope)
        case let l as RecurrentLayer:
            // Its cells are named as its own children (layers.0...), not under `recurrent`.
            let (sequence, final) = try recurrent(l.recurrent, x, scope: scope)
            return l.keepsSequence ? sequence : final
        case let l as BasicBlock: return try basicBlock(l, x, scope: scope)
        case let l as DepthwiseSeparable: return depthwiseSeparable(l, x, scope: scope)
        case let l as InceptionModule:
            let branches = try [("branch1", l.branch1), ("branch3", l.branch3), ("branch5", l.branch5)]
                .map { try self.layer($1, x, scope: child($0)) }
            let pool = try self.layer(l.branchPool, x, scope: child("branchPool"))
            return concat(branches + [pool], axis: 1, scope: scope)
        default: throw ONNXExportError.unsupported(layer, at: scope)
        }
    }

    /// A lookup of int64 ids (...) in a table (V, D): Gather, giving (..., D).
    public func embedding(_ table: Tensor, _ ids: ONNXValue, scope: String) -> ONNXValue {
        node(
            "Gather", [parameter(table), ids], [.int("axis", 0)], scope: scope,
            shape: ids.shape + [.fixed(table.shape[1])])
    }

    /// ResNet's basic block: ReLU(BN(conv(ReLU(BN(conv(x))))) + shortcut(x)).
    func basicBlock(_ block: BasicBlock, _ x: ONNXValue, scope: String) throws -> ONNXValue {
        let f = block.activation
        var y = batchNorm(block.bn1, conv2d(block.conv1, x, scope: "\(scope).conv1"), scope: "\(scope).bn1")
        y = activation(f, y, scope: scope)
        y = batchNorm(block.bn2, conv2d(block.conv2, y, scope: "\(scope).conv2"), scope: "\(scope).bn2")
        var shortcut = x
        if let projection = block.projection, let norm = block.projectionNorm {
            shortcut = batchNorm(
                norm, conv2d(projection, x, scope: "\(scope).projection"), scope: "\(scope).projectionNorm")
        }
        return activation(f, add(y, shortcut, scope: scope), scope: scope)
    }

    /// MobileNet's depthwise separable block: depthwise conv, BN, activation, pointwise conv, BN, activation.
    func depthwiseSeparable(_ block: DepthwiseSeparable, _ x: ONNXValue, scope: String) -> ONNXValue {
        let f = block.activation
        var y = conv2d(block.depthwise, x, scope: "\(scope).depthwise")
        y = activation(f, batchNorm(block.depthwiseNorm, y, scope: "\(scope).depthwiseNorm"), scope: scope)
        y = conv2d(block.pointwise, y, scope: "\(scope).pointwise")
        return activation(f, batchNorm(block.pointwiseNorm, y, scope: "\(scope).pointwiseNorm"), scope: scope)
    }
}
