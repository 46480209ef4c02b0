import ArgumentParser
import TensorCore

/// `tandem-bench gemm`: GFLOP/s of the packed SIMD GEMM on one shape.
struct GemmBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm", abstract: "Time C = A·B for one shape, after checking it against a naive reference.")

    @Option(help: "Rows of C.") var m = 1024
    @Option(help: "Columns of C.") var n = 1024
    @Option(help: "Inner dimension.") var k = 1024
    @Option(help: "Threads for the GEMM.") var threads = 1
    @Flag(help: "Use A transposed (stored k x m).") var transA = false
    @Flag(help: "Use B transposed (stored n x k).") var transB = false
    @Option(help: "Timed runs (default: enough for about a second, at least 10).") var runs: Int?
    @Option(help: "Element type of A and B: fp32, fp16 or bf16 (16-bit operands are widened while packed; C is fp32).")
    var dtype = "fp32"
    @Option(
        help: ArgumentHelp(
            "Time HeadProduct (an attention head's single-thread product) instead, with this mask: none, lower-columns, lower-depth or upper-depth (the depth masks need m = k and zero A where they skip it).",
            valueName: "mask"))
    var head: String?
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func validate() throws {
        guard m > 0, n > 0, k > 0 else { throw ValidationError("--m, --n and --k must be positive") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard operandType != nil else { throw ValidationError("--dtype must be fp32, fp16 or bf16, got '\(dtype)'") }
        if let head {
            guard let mask = Self.masks[head] else {
                throw ValidationError("--head must be none, lower-columns, lower-depth or upper-depth, got '\(head)'")
            }
            guard dtype == "fp32", threads == 1 else {
                throw ValidationError("--head times fp32 on one thread; drop --dtype and --threads")
            }
            guard m == k || mask == .none || mask == .lowerColumns else {
                throw ValidationError("--head \(head) needs --m equal to --k")
            }
        }
    }

    func run() throws {
        ThreadPool.configure(threads: threads)
        var rng = PhiloxRNG(seed: 42)
        let a = NDArray(shape: [m * k], zeroed: false), b = NDArray(shape: [k * n], zeroed: false)
        let c = NDArray(shape: [m * n], zeroed: false)
        rng.fillUniform(a.ptr, m * k, low: -1, high: 1)
        rng.fillUniform(b.ptr, k * n, low: -1, high: 1)
        let lda = transA ? m : k, ldb = transB ? k : n
        // 16-bit operands: the reference reads the fp32 arrays rounded to the same values.
        let type = operandType!
        let mask = head.flatMap { Self.masks[$0] }
        // The weights a depth mask skips are zero in attention; so they are here.
        if mask == .lowerDepth || mask == .upperDepth {
            for i in 0..<m {
                for p in 0..<k where mask == .lowerDepth ? p > i : p < i {
                    a.ptr[transA ? p * lda + i : i * lda + p] = 0
                }
            }
        }
        let (a16, b16) = type == .float32 ? (a, b) : (a.converted(to: type), b.converted(to: type))
        let (aRounded, bRounded) = (a16.float32, b16.float32)
        let gemm =
            mask.map { mask in
                {
                    HeadProduct.multiply(
                        transA: transA, transB: transB, m: m, n: n, k: k, a: a.ptr, lda: lda, b: b.ptr, ldb: ldb,
                        c: c.ptr, ldc: n, mask: mask)
                }
            } ?? {
                GEMM.gemm(
                    transA: transA, transB: transB, m: m, n: n, k: k,
                    a: GEMMOperand(raw: UnsafeRawPointer(a16.storage.raw), dtype: type, ld: lda),
                    b: GEMMOperand(raw: UnsafeRawPointer(b16.storage.raw), dtype: type, ld: ldb), c: c.ptr, ldc: n)
            }
        let counted = GEMM.flops
        gemm()
        try verify(a: aRounded.ptr, b: bRounded.ptr, c: c.ptr, lda: lda, ldb: ldb, upToDiagonal: mask == .lowerColumns)
        // The flops done: a masked head product skips tiles and depths.
        let flops = Double(GEMM.flops - counted)
        let estimateMs = max(flops / 50e9 * 1e3, 0.001)
        let count = runs ?? max(10, min(2000, Int(1000 / estimateMs)))
        let ms = Stopwatch.medianMs(warmup: 3, runs: count, gemm)
        let gflops = flops / (ms * 1e6)
        if json {
            print(
                #"{"bench":"gemm","head":"\#(head ?? "")","dtype":"\#(dtype)","m":\#(m),"n":\#(n),"k":\#(k),"threads":\#(threads),"trans_a":\#(transA),"trans_b":\#(transB),"ms":\#(ms),"gflops":\#(gflops),"runs":\#(count)}"#
            )
        } else {
            print(
                "\(head.map { "head product (\($0))" } ?? "gemm") \(dtype) m=\(m) n=\(n) k=\(k) threads=\(threads): \(ms) ms, \(gflops) GFLOP/s (median of \(count))"
            )
        }
    }

    private var operandType: DType? { ["fp32": .float32, "fp16": .float16, "bf16": .bfloat16][dtype] }
    private static let masks: [String: HeadProduct.Mask] = [
        "none": .none, "lower-columns": .lowerColumns,
        "lower-depth": .lowerDepth, "upper-depth": .upperDepth,
    ]

    /// Compares 512 random entries of C with a Double-precision dot product (with
    /// `upToDiagonal`, those on or left of the diagonal: the others are not computed).
    private func verify(
        a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafePointer<Float>, lda: Int, ldb: Int,
        upToDiagonal: Bool
    ) throws {
        var rng = PhiloxRNG(seed: 7)
        for s in 0..<512 {
            let w = PhiloxRNG.block(seed: rng.seed, counter: UInt64(s))
            let i = Int(w[0]) % m, j = Int(w[1]) % n
            if upToDiagonal && j > i { continue }
            var ref = 0.0, mag = 0.0
            for p in 0..<k {
                let x = Double(transA ? a[p * lda + i] : a[i * lda + p])
                let y = Double(transB ? b[j * ldb + p] : b[p * ldb + j])
                ref += x * y; mag += abs(x * y)
            }
            let err = abs(Double(c[i * n + j]) - ref)
            if err > 1e-5 * mag + 1e-6 {
                throw ValidationError("GEMM check failed at (\(i), \(j)): got \(c[i * n + j]), expected \(ref)")
            }
        }
        _ = rng.advance(0)
    }
}
