/// The tiles of one packed block of C (mc x nc, at most MC x NC), for one way of reading the
/// operands and writing C: each conforming type says how a full, an edge and a short tile
/// are computed, and `run` walks the block once for all of them.
///
/// Tiles are addressed by B panel `jp` (16 columns from the block's left) and row `ir` (a
/// multiple of 6 from the block's top). The loop is generic, so each conformance gets its own
/// specialised copy with the tile calls inlined: a tile costs no call, and no branch between
/// the ways runs per tile.
protocol GEMMTiles {
    /// The block's columns of the bias added to C's rows (see `GEMMOutput.bias`), or nil.
    var bias: UnsafePointer<Float>? { get }

    /// The full 6x16 tile at (`jp`, `ir`).
    func full(_ jp: Int, _ ir: Int)

    /// A partial tile at the block's edge: `rows` <= 6 rows, `cols` <= 16 columns, not both full.
    func edge(_ jp: Int, _ ir: Int, rows: Int, cols: Int)

    /// The short tile over two full B panels (`jp`, `jp` + 1) for a last row panel of `rows`
    /// <= `GEMMMicroKernel.shortRows` rows (see `GEMMMicroKernel.short`).
    func pair(_ jp: Int, _ ir: Int, rows: Int)
}

extension GEMMTiles {
    /// The bias columns of the tiles over B panel `jp`.
    @inline(__always)
    func panelBias(_ jp: Int) -> UnsafePointer<Float>? { bias.map { $0 + jp * GEMMMicroKernel.nr } }

    /// Computes every tile of the block: row panels outermost or B panels outermost.
    ///
    /// A row panel of at most `GEMMMicroKernel.shortRows` rows takes short tiles, two full B
    /// panels at a time; an odd or partial last panel there still takes an edge tile.
    /// - Parameters:
    ///   - rowsOuter: walk row panels outermost (else B panels).
    ///   - panels: this thread's B panels of the block.
    ///   - rows: the block's rows (mc).
    ///   - columns: the block's columns (nc), which say which panels are full.
    @inline(__always)
    func run(rowsOuter: Bool, panels: Range<Int>, rows: Int, columns: Int) {
        let mr = GEMMMicroKernel.mr, nr = GEMMMicroKernel.nr
        let fullPanels = min(panels.upperBound, columns / nr)  // panels below this are 16 columns wide
        @inline(__always) func tile(_ jp: Int, _ ir: Int) {
            if rows - ir <= GEMMMicroKernel.shortRows {
                if (jp - panels.lowerBound) % 2 == 1 {
                    if jp < fullPanels { return }  // the pair that starts at jp - 1 took it
                } else if jp + 1 < fullPanels {
                    pair(jp, ir, rows: rows - ir)
                    return
                }
            }
            let tileRows = min(mr, rows - ir), cols = min(nr, columns - jp * nr)
            if tileRows == mr && cols == nr {
                full(jp, ir)
            } else {
                edge(jp, ir, rows: tileRows, cols: cols)
            }
        }
        if rowsOuter {
            for ir in stride(from: 0, to: rows, by: mr) { for jp in panels { tile(jp, ir) } }
        } else {
            for jp in panels { for ir in stride(from: 0, to: rows, by: mr) { tile(jp, ir) } }
        }
    }
}
