// FastMath.tanh against libm's tanhf over 4M floats, each in a plain loop (is it vectorised?).
// Run: cat Sources/TensorCore/Kernels/FastMath.swift launch/bench/tanh_loop.swift > /tmp/tanh_loop.swift \
//   && swiftc -O -Xcc -mavx2 -Xcc -mfma /tmp/tanh_loop.swift -o /tmp/tanh_loop && /tmp/tanh_loop
import Foundation

@inline(never) func fastLoop(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { dst[i] = FastMath.tanh(src[i]) }
}

@inline(never) func libmLoop(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { dst[i] = tanhf(src[i]) }
}

let n = 4_000_000
let x = UnsafeMutablePointer<Float>.allocate(capacity: n), y = UnsafeMutablePointer<Float>.allocate(capacity: n)
for i in 0..<n { x[i] = Float(i % 2000) / 200 - 5 }
for (name, loop) in [("FastMath.tanh", fastLoop), ("libm tanhf", libmLoop)] {
    let start = Date()
    for _ in 0..<5 { loop(x, y, n) }
    print(name, String(format: "%.1f ms", Date().timeIntervalSince(start) / 5 * 1000))
}
