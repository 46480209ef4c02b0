import Datasets

/// A config value with a fixed set of names: it decodes from its YAML name, and any other name
/// is a config error that lists the allowed ones (`NamedChoice`), and prints as its name.
public protocol ConfigChoice: NamedChoice, CustomStringConvertible {}

extension ConfigChoice {
    public var description: String { rawValue }
}
