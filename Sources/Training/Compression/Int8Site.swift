import Autograd
import NN

/// A place in a model that can run int8: a linear layer, a convolution, or a recurrent
/// layer's input projection. Recurrent state updates, norms, attention and residual adds stay fp32.
public struct Int8Site {
    public enum Kind {
        case linear(Linear)
        case conv(Conv2d)
        /// Layer `layer` of a recurrent stack: x·W_ihᵀ + b_ih.
        case recurrentInput(Recurrent, layer: Int)
    }

    /// The layer's dotted module name; a recurrent input projection is its cell's name + ".input".
    public let name: String
    public let kind: Kind

    /// Its int8 mode (nil: fp32).
    public var mode: Int8Mode? {
        get {
            switch kind {
            case let .linear(l): return l.int8
            case let .conv(c): return c.int8
            case let .recurrentInput(r, layer): return r.int8Projections[layer]
            }
        }
        nonmutating set {
            switch kind {
            case let .linear(l): l.int8 = newValue
            case let .conv(c): c.int8 = newValue
            case let .recurrentInput(r, layer): r.int8Projections[layer] = newValue
            }
        }
    }

    /// The int8 weights, once quantized: the values, per-channel scales, bias, input scale and
    /// zero point an exporter writes.
    public var weights: Int8Weights? { mode?.weights }

    /// The fp32 weight the int8 one replaces: (out, in) or (OC, C/groups, KH, KW).
    public var weight: Tensor {
        switch kind {
        case let .linear(l): return l.weight
        case let .conv(c): return c.weight
        case let .recurrentInput(r, layer): return r.layers[layer].weightIH
        }
    }

    /// The fp32 bias, if any.
    public var bias: Tensor? {
        switch kind {
        case let .linear(l): return l.bias
        case let .conv(c): return c.bias
        case let .recurrentInput(r, layer): return r.layers[layer].biasIH
        }
    }

    /// Convolution groups (1 otherwise).
    public var groups: Int {
        if case let .conv(c) = kind { return c.groups }
        return 1
    }

    /// Every site of `model`, depth first; a module reached twice (shared) is listed once.
    public static func all(in model: any Module) -> [Int8Site] {
        var seen = Set<ObjectIdentifier>(), sites: [Int8Site] = []
        for (name, module) in model.namedModules() where seen.insert(ObjectIdentifier(module)).inserted {
            switch module {
            case let l as Linear: sites.append(Int8Site(name: name, kind: .linear(l)))
            case let c as Conv2d: sites.append(Int8Site(name: name, kind: .conv(c)))
            case let r as Recurrent:
                let cells = r.namedChildren.map(\.0)
                for l in r.layers.indices {
                    let cell = l < cells.count ? cells[l] : "layers.\(l)"
                    sites.append(
                        Int8Site(
                            name: (name.isEmpty ? "" : name + ".") + cell + ".input", kind: .recurrentInput(r, layer: l)
                        ))
                }
            default: continue
            }
        }
        return sites
    }
}
