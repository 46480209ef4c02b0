import Autograd

/// Max pooling layer; stride defaults to the kernel.
public final class MaxPool2d: Layer {
    public var training = true
    public let kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), ceilMode: Bool

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0, dilation: Int = 1, ceilMode: Bool = false) {
        self.kernel = (kernel, kernel)
        self.stride = (stride ?? kernel, stride ?? kernel)
        self.padding = (padding, padding)
        self.dilation = (dilation, dilation)
        self.ceilMode = ceilMode
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        ShapeTrace.note(
            self,
            maxPool2d(x, kernel: kernel, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode))
    }
}

/// Average pooling layer; stride defaults to the kernel.
public final class AvgPool2d: Layer {
    public var training = true
    public let kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), ceilMode: Bool, countIncludePad: Bool

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false, countIncludePad: Bool = true)
    {
        self.kernel = (kernel, kernel)
        self.stride = (stride ?? kernel, stride ?? kernel)
        self.padding = (padding, padding)
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = avgPool2d(
            x, kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode, countIncludePad: countIncludePad)
        return ShapeTrace.note(self, y)
    }
}

/// (N, C, H, W) to (N, C) by averaging each plane.
public final class GlobalAvgPool2d: Layer {
    public var training = true
    public init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { ShapeTrace.note(self, globalAvgPool2d(x)) }
}
