import Autograd

/// A part of a model: it owns parameters, buffers and child modules, found by reflection.
///
/// Stored properties are discovered with `Mirror`, so a layer declares its parameters as
/// plain properties and gets PyTorch-style dotted names for free: a `Tensor` property is a
/// parameter, a `Buffer` a buffer, a `Module` (or an array of them) a child, named by its
/// property and, in arrays, its index (`blocks.3.attention.query.weight`).
public protocol Module: AnyObject {
    /// Training mode (dropout active, batch norm on batch statistics) or evaluation mode.
    var training: Bool { get set }
}

/// A module with a single input and a single output, composable in `Sequential`.
public protocol Layer: Module {
    func callAsFunction(_ x: Tensor) -> Tensor
}

/// A module whose children are a list built at run time (a model declared in a config), named
/// by that list rather than by stored properties. It owns no tensors or buffers of its own.
public protocol ModuleContainer: Module {
    /// Its children in registration order, each with its name (no dots).
    var containedModules: [(String, any Module)] { get }
}

/// A module whose tensors are saved under other names than its Swift properties: the names the
/// equivalent `torch.nn` module's `state_dict` uses, so that a saved file loads into it as it is.
public protocol TensorNaming: Module {
    /// The saved name of a tensor of this module's subtree.
    /// - Parameter name: its dotted name relative to this module (`runningMean`, `layers.1.weightIH`),
    ///   already renamed by the modules below.
    /// - Returns: the name to save it under (`running_mean`, `weight_ih_l1`); `name` to keep it.
    func exportedName(of name: String) -> String
}

/// Non-trainable state saved with the model, such as batch norm's running statistics.
public final class Buffer {
    public var value: NDArray
    public init(_ value: NDArray) { self.value = value }
}

/// A module that draws random numbers during training (dropout): checkpoints save and
/// restore its stream so that a resumed run draws exactly what an uninterrupted one would.
public protocol RandomStreamOwner: Module {
    var rng: PhiloxRNG { get set }
}

extension Module {
    /// Every module that owns a random stream, with its dotted name ("" for this module).
    public func namedRandomStreams(prefix: String = "") -> [(String, any RandomStreamOwner)] {
        var out: [(String, any RandomStreamOwner)] = []
        if let owner = self as? any RandomStreamOwner {
            out.append((prefix.isEmpty ? "" : String(prefix.dropLast()), owner))
        }
        for (name, child) in namedChildren { out += child.namedRandomStreams(prefix: prefix + name + ".") }
        return out
    }

    /// The direct children with their property names.
    public var namedChildren: [(String, any Module)] {
        if let container = self as? any ModuleContainer { return container.containedModules }
        var out: [(String, any Module)] = []
        for (label, value) in Mirror(reflecting: self).children {
            guard let label else { continue }
            if let m = value as? any Module {
                out.append((label, m))
            } else if let ms = value as? [any Module] {
                for (i, m) in ms.enumerated() { out.append(("\(label).\(i)", m)) }
            }
        }
        return out
    }

    /// This module and every descendant, depth first, with dotted names ("" for this one).
    public func namedModules(prefix: String = "") -> [(String, any Module)] {
        var out: [(String, any Module)] = [(prefix.isEmpty ? "" : String(prefix.dropLast()), self)]
        for (name, child) in namedChildren { out += child.namedModules(prefix: prefix + name + ".") }
        return out
    }

    /// Every parameter in registration order (declaration order, depth first) with its dotted name.
    /// - Parameters:
    ///   - prefix: put before every name.
    ///   - swiftNames: the Swift property paths, as files written before `TensorNaming` hold
    ///     them, instead of the names modules save their tensors under (PyTorch's).
    public func namedParameters(prefix: String = "", swiftNames: Bool = false) -> [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        func add(_ child: any Module, _ name: String) {
            out += child.namedParameters(swiftNames: swiftNames).map { (name + "." + $0, $1) }
        }
        if let container = self as? any ModuleContainer {
            for (name, child) in container.containedModules { add(child, name) }
        } else {
            for (label, value) in Mirror(reflecting: self).children {
                guard let label else { continue }
                if let t = value as? Tensor {
                    out.append((label, t))
                } else if let m = value as? any Module {
                    add(m, label)
                } else if let ms = value as? [any Module] {
                    for (i, m) in ms.enumerated() { add(m, "\(label).\(i)") }
                }
            }
        }
        return out.map { (prefix + (swiftNames ? $0 : savedName($0)), $1) }
    }

    /// Every buffer with its dotted name, named as `namedParameters` names parameters.
    public func namedBuffers(prefix: String = "", swiftNames: Bool = false) -> [(String, Buffer)] {
        var out: [(String, Buffer)] = []
        for (label, value) in Mirror(reflecting: self).children where !(self is any ModuleContainer) {
            guard let label else { continue }
            if let b = value as? Buffer { out.append((label, b)) }
        }
        for (name, child) in namedChildren {
            out += child.namedBuffers(swiftNames: swiftNames).map { (name + "." + $0, $1) }
        }
        return out.map { (prefix + (swiftNames ? $0 : savedName($0)), $1) }
    }

    /// `name`, relative to this module, as this module saves it.
    private func savedName(_ name: String) -> String {
        (self as? any TensorNaming)?.exportedName(of: name) ?? name
    }

    public var parameters: [Tensor] { namedParameters().map(\.1) }
    /// Number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// Sets training mode on this module and every descendant.
    public func train(_ on: Bool = true) {
        training = on
        for (_, child) in namedChildren { child.train(on) }
    }

    /// Sets evaluation mode on this module and every descendant.
    public func eval() { train(false) }

    /// Moves every parameter into one flat arena (and gradients into a second one).
    public func flattenParameters() -> ParameterArena { ParameterArena(namedParameters()) }
}
