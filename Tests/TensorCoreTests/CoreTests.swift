import Foundation
import Synchronization
@testable import TensorCore
import Testing

@Suite("Dtypes, RNG, dropout and the thread pool")
struct CoreTests {
    @Test func philoxKnownAnswers() {
        // Random123 kat_vectors for philox4x32_10.
        #expect(
            PhiloxRNG.block(seed: 0, counter: 0, stream: 0) == SIMD4(0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8)
        )
        let all = UInt64.max
        #expect(
            PhiloxRNG.block(seed: all, counter: all, stream: all)
                == SIMD4(0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd))
    }

    @Test func uniformAndNormalStatistics() {
        var rng = PhiloxRNG(seed: 1)
        let n = 200_000
        let u = NDArray(shape: [n], zeroed: false), g = NDArray(shape: [n], zeroed: false)
        rng.fillUniform(u.ptr, n)
        rng.fillNormal(g.ptr, n, mean: 1, std: 2)
        let us = u.scalars.map(Double.init), gs = g.scalars.map(Double.init)
        #expect(us.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(abs(us.reduce(0, +) / Double(n) - 0.5) < 0.005)
        let gm = gs.reduce(0, +) / Double(n)
        let gsd = (gs.reduce(0) { $0 + ($1 - gm) * ($1 - gm) } / Double(n)).squareRoot()
        #expect(abs(gm - 1) < 0.02 && abs(gsd - 2) < 0.02)
        // Successive draws use fresh counters.
        let again = NDArray(shape: [n], zeroed: false)
        rng.fillUniform(again.ptr, n)
        #expect(again.scalars != u.scalars)
    }

    @Test func dropoutMaskIsDeterministicAndUnbiased() {
        let x = NDArray(repeating: 1, shape: [100_000])
        let y = Dropout.forward(x, p: 0.3, seed: 9, offset: 1000)
        let kept = y.scalars.filter { $0 != 0 }
        #expect(abs(Double(kept.count) / 100_000 - 0.7) < 0.01)
        #expect(kept.allSatisfy { abs($0 - 1 / 0.7) < 1e-6 })
        #expect(Dropout.forward(x, p: 0.3, seed: 9, offset: 1000).scalars == y.scalars)
        #expect(Dropout.forward(x, p: 0.3, seed: 9, offset: 2000).scalars != y.scalars)
        // Backward regenerates the same mask.
        let dx = Dropout.backward(x, p: 0.3, seed: 9, offset: 1000)
        #expect(dx.scalars == y.scalars)
    }

    @Test func halfCasts() {
        // Values exactly representable in both formats survive a round trip.
        let exact: [Float] = [0, -0, 1, -2, 0.5, 1024, -0.09375, 65504, .infinity, -.infinity]
        let a = NDArray(exact, shape: [exact.count])
        #expect(a.converted(to: .float16).converted(to: .float32).scalars == exact)
        let bfExact = exact.filter { $0 != 65504 }
        let b = NDArray(bfExact, shape: [bfExact.count])
        #expect(b.converted(to: .bfloat16).converted(to: .float32).scalars == bfExact)
        // Rounding: to nearest, ties to even; overflow to infinity; NaN stays NaN.
        #expect(HalfCast.float16Bits(1 + 1.0 / 2048) == 0x3C00)  // tie, rounds down to even
        #expect(HalfCast.float16Bits(1 + 3.0 / 2048) == 0x3C02)  // tie, rounds up to even
        #expect(HalfCast.float16Bits(70000) == 0x7C00)
        #expect(HalfCast.bfloat16Bits(1 + 1.0 / 256) == 0x3F80)  // tie to even
        #expect(HalfCast.bfloat16Bits(1 + 3.0 / 256) == 0x3F82)
        #expect(HalfCast.float(bfloat16: HalfCast.bfloat16Bits(.nan)).isNaN)
        #expect(HalfCast.float(float16: HalfCast.float16Bits(.nan)).isNaN)
        // Random values: relative error within half an ulp of each format.
        var rng = PhiloxRNG(seed: 3)
        let r = NDArray(shape: [100_000], zeroed: false)
        rng.fillUniform(r.ptr, r.count, low: -100, high: 100)
        let h = r.converted(to: .float16).converted(to: .float32).scalars
        let bf = r.converted(to: .bfloat16).converted(to: .float32).scalars
        for (i, v) in r.scalars.enumerated() where Swift.abs(v) > 1e-3 {
            #expect(Swift.abs(h[i] - v) <= Swift.abs(v) * 0x1p-11)
            #expect(Swift.abs(bf[i] - v) <= Swift.abs(v) * 0x1p-8)
        }
    }

    /// The live and peak tensor-byte counters follow an allocation and its release. Other
    /// suites allocate concurrently, so the change is measured a few times and the closest
    /// kept.
    @Test func storageCountsLiveAndPeakBytes() {
        let bytes = 64 << 20
        var closest = Int.max
        for _ in 0..<5 {
            let before = Storage.liveBytes
            var held: Storage? = Storage(byteCount: bytes, zeroed: false)
            let during = Storage.liveBytes
            #expect(Storage.peakBytes >= during && during >= bytes)
            held = nil
            let after = Storage.liveBytes
            closest = min(closest, abs(during - before - bytes) + abs(during - after - bytes))
            _ = held
        }
        #expect(
            closest < 1 << 20, "allocating and freeing 64 MiB moved the live count by \(closest) bytes more or less")
    }

    @Test func hugePageStorageIsAlignedZeroedAndAdvised() throws {
        // An odd size above one huge page: two pages are mapped.
        let bytes = Storage.hugePageBytes + 4 * 1001
        let storage = Storage(hugePagesFor: bytes)
        let address = Int(bitPattern: storage.raw)
        #expect(address % Storage.hugePageBytes == 0)
        let floats = storage.raw.assumingMemoryBound(to: Float.self)
        #expect((0..<bytes / 4).allSatisfy { floats[$0] == 0 })
        floats[bytes / 4 - 1] = 3  // the last float is writable
        // The kernel lists both pages in a mapping advised for huge pages ("hg"), where it
        // supports them. (Adjacent arenas may share the mapping, so it can be longer.)
        guard FileManager.default.fileExists(atPath: "/sys/kernel/mm/transparent_hugepage/enabled") else { return }
        let line = try #require(Self.mapping(containing: address))
        #expect(line.start <= address && line.end >= address + 2 * Storage.hugePageBytes)
        #expect(line.flags.contains("hg"))
    }

    /// The /proc/self/smaps entry whose range holds `address`: its bounds and VmFlags.
    static func mapping(containing address: Int) -> (start: Int, end: Int, flags: [Substring])? {
        // Read to the end: /proc files report a size of 0, so whole-file reads return nothing.
        guard let data = try? FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/smaps")).readToEnd() else {
            return nil
        }
        let text = String(decoding: data, as: UTF8.self)
        var current: (Int, Int)?
        for line in text.split(separator: "\n") {
            if let dash = line.firstIndex(of: "-"), let space = line.firstIndex(of: " "), dash < space,
                let lo = Int(line[..<dash], radix: 16), let hi = Int(line[line.index(after: dash)..<space], radix: 16)
            {
                current = (lo, hi)
            } else if line.hasPrefix("VmFlags:"), let (lo, hi) = current, lo <= address && address < hi {
                return (lo, hi, line.dropFirst(8).split(separator: " "))
            }
        }
        return nil
    }

    @Test func parallelForCoversEveryIndexOnce() {
        let pool = ThreadPool.shared
        for count in [0, 1, 2, 3, 17, 1000, 100_003] {
            let hits = NDArray(shape: [max(count, 1)])
            let p = hits.ptr
            pool.parallelFor(count, grain: 1) { r in for i in r { p[i] += 1 } }
            #expect(hits.scalars.prefix(count).allSatisfy { $0 == 1 }, "count \(count)")
        }
    }

    @Test func nestedParallelRunsSeriallyAndBarrierSynchronises() {
        // A pool of its own: the shared one may be busy with another suite's test, and a busy
        // pool runs a parallel region on its caller alone (by design).
        let pool = ThreadPool(threads: 3)
        let inner = Atomic<Int>(0)
        pool.parallel { _, _ in
            pool.parallel { _, n in
                #expect(n == 1)
                inner.add(1, ordering: .relaxed)
            }
        }
        #expect(inner.load(ordering: .relaxed) == pool.threadCount)
        // Every thread sees every other thread's phase-1 write after the barrier.
        let n = pool.threadCount
        let slots = NDArray(shape: [n])
        let barrier = SpinBarrier(count: n)
        let sums = NDArray(shape: [n])
        pool.parallel { tid, nt in
            slots.ptr[tid] = Float(tid + 1)
            if nt > 1 { barrier.wait() }
            sums.ptr[tid] = (0..<nt).reduce(0) { $0 + slots.ptr[$1] }
        }
        #expect(sums.scalars.allSatisfy { $0 == Float(n * (n + 1) / 2) })
    }
}
