/// The version printed by `tandem --version`.
enum TandemVersion {
    static let string = "0.1.0"
}
