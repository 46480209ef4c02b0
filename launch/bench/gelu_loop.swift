// The tanh-GELU loop with FastMath's FMAs against the same formula in separate multiplies and
// adds (how FastMath.exp was written before it used addingProduct), on 64K floats in L1.
// Run: cat Sources/TensorCore/Kernels/FastMath.swift launch/bench/gelu_loop.swift > /tmp/gelu_loop.swift \
//   && swiftc -O -Xcc -mavx2 -Xcc -mfma /tmp/gelu_loop.swift -o /tmp/gelu_loop && /tmp/gelu_loop
import Foundation

/// FastMath.exp as it was: Swift does not contract these into FMAs.
@inline(__always) func separateExp(_ x: Float) -> Float {
    let v = Swift.min(Swift.max(x, -87.3), 88.3)
    let n = (v * 1.44269504088896341 + 12582912) - 12582912
    let r = v - n * 0.693359375 + n * 2.12194440e-4
    var p: Float = 1.9875691500e-4
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let y = p * r * r + r + 1
    return y * Float(bitPattern: (n + 8388735).bitPattern &<< 23)
}

@inline(never) func separateLoop(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { let v = src[i]; dst[i] = v * (1 / (1 + separateExp(-((v + v * v * v * 0.044715) * 1.5957691216)))) }
}

@inline(never) func fmaLoop(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { let v = src[i]; dst[i] = v / (1 + FastMath.exp(v.addingProduct(v * v * v, 0.044715) * -1.5957691216)) }
}

let n = 1 << 16
let x = UnsafeMutablePointer<Float>.allocate(capacity: n), y = UnsafeMutablePointer<Float>.allocate(capacity: n)
for i in 0..<n { x[i] = Float(i % 2000) / 200 - 5 }
for (name, loop) in [("separate multiplies and adds", separateLoop), ("FMAs", fmaLoop)] {
    loop(x, y, n)
    let start = Date()
    for _ in 0..<1000 { loop(x, y, n) }
    print(name, String(format: "%.2f ns a value", Date().timeIntervalSince(start) / Double(1000 * n) * 1e9))
}
