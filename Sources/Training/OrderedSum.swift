import Collective

/// Sums over every rank whose bits do not depend on how the terms were split over ranks.
///
/// An allreduce adds each rank's partial sum in MPI's order, so a loss summed on 2 ranks and
/// on 3 differs in its last bits. Here every term carries a key (its place in the global
/// order: a micro-shard or an evaluation chunk), the terms are gathered, and each rank adds
/// them in key order. Cheap for what it is used for: a few terms per step or per chunk.
public struct OrderedSum: Sendable {
    /// Values per term (a loss sum and a sample count: 2).
    public let width: Int
    /// Each term as its key followed by its `width` values.
    private var rows: [Double] = []

    public init(width: Int) { self.width = width }

    /// A sum holding `terms`, each a key followed by `width` values (as `terms` returns them).
    public init(width: Int, terms: [Double]) {
        precondition(terms.count % (width + 1) == 0, "\(terms.count) values are not whole terms of width \(width)")
        self.width = width
        rows = terms
    }

    /// This rank's terms, each its key followed by its values.
    public var terms: [Double] { rows }

    /// Adds one term; keys must be unique over all ranks.
    public mutating func add(key: Int, _ values: Double...) { add(key: key, values) }

    /// Adds one term of `width` values; keys must be unique over all ranks.
    public mutating func add(key: Int, _ values: [Double]) {
        precondition(values.count == width, "a term of \(values.count) values in a sum of width \(width)")
        rows.append(Double(key))
        rows += values
    }

    /// The totals over every rank's terms, added in key order (a collective: every rank calls it).
    public func totals(over communicator: Communicator) -> [Double] {
        let all = communicator.allgather(rows), rowLength = width + 1
        var totals = [Double](repeating: 0, count: width)
        for start in stride(from: 0, to: all.count, by: rowLength).sorted(by: { all[$0] < all[$1] }) {
            for w in 0..<width { totals[w] += all[start + 1 + w] }
        }
        return totals
    }
}
