import Foundation

/// Line charts as inline SVG, for `tandem report`: no scripts, no external files.
enum SVGPlot {
    struct Series {
        let name: String
        let color: String
        let points: [(x: Double, y: Double)]
    }

    /// A chart of one or more series against a shared x axis, with ticks and a legend.
    /// - Parameters:
    ///   - title: shown above the plot.
    ///   - xLabel: the x axis' name.
    ///   - series: the lines (at least one point each; non-finite points are skipped).
    static func lineChart(title: String, xLabel: String, series: [Series], width: Int = 560, height: Int = 300)
        -> String
    {
        let all = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        guard let x0 = all.map(\.x).min(), let x1 = all.map(\.x).max(), let y0 = all.map(\.y).min(),
            let y1 = all.map(\.y).max()
        else {
            return "<p>\(escape(title)): no data</p>"
        }
        let (left, right, top, bottom) = (64.0, 16.0, 28.0, 40.0)
        let plotW = Double(width) - left - right, plotH = Double(height) - top - bottom
        let xSpan = max(x1 - x0, 1e-12), pad = max(y1 - y0, abs(y1) * 1e-3, 1e-12) * 0.05
        let (yLo, ySpan) = (y0 - pad, (y1 - y0) + 2 * pad)
        func px(_ x: Double) -> Double { left + (x - x0) / xSpan * plotW }
        func py(_ y: Double) -> Double { top + (1 - (y - yLo) / ySpan) * plotH }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" class=\"plot\">"
        svg += "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>"
        svg += "<text x=\"\(left)\" y=\"18\" font-size=\"14\" font-family=\"sans-serif\">\(escape(title))</text>"
        for k in 0...4 {  // grid lines and tick labels
            let fy = yLo + ySpan * Double(k) / 4, fx = x0 + xSpan * Double(k) / 4
            svg +=
                "<line x1=\"\(left)\" x2=\"\(left + plotW)\" y1=\"\(f(py(fy)))\" y2=\"\(f(py(fy)))\" stroke=\"#e5e5e5\"/>"
            svg +=
                "<text x=\"\(left - 6)\" y=\"\(f(py(fy) + 4))\" font-size=\"10\" text-anchor=\"end\" font-family=\"sans-serif\">\(tick(fy))</text>"
            svg +=
                "<text x=\"\(f(px(fx)))\" y=\"\(f(top + plotH + 14))\" font-size=\"10\" text-anchor=\"middle\" font-family=\"sans-serif\">\(tick(fx))</text>"
        }
        svg +=
            "<text x=\"\(f(left + plotW / 2))\" y=\"\(height - 6)\" font-size=\"11\" text-anchor=\"middle\" font-family=\"sans-serif\">\(escape(xLabel))</text>"
        svg +=
            "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#999999\"/>"
        for (i, s) in series.enumerated() {
            let pts = s.points.filter { $0.x.isFinite && $0.y.isFinite }
            let path = pts.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            if pts.count == 1 {
                svg += "<circle cx=\"\(f(px(pts[0].x)))\" cy=\"\(f(py(pts[0].y)))\" r=\"4\" fill=\"\(s.color)\"/>"
            } else {
                svg += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\" points=\"\(path)\"/>"
            }
            let ly = top + 14 + Double(i) * 14
            svg +=
                "<line x1=\"\(f(left + plotW - 120))\" x2=\"\(f(left + plotW - 100))\" y1=\"\(f(ly - 4))\" y2=\"\(f(ly - 4))\" stroke=\"\(s.color)\" stroke-width=\"3\"/>"
            svg +=
                "<text x=\"\(f(left + plotW - 96))\" y=\"\(f(ly))\" font-size=\"11\" font-family=\"sans-serif\">\(escape(s.name))</text>"
        }
        return svg + "</svg>"
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
    static func tick(_ v: Double) -> String {
        abs(v) >= 1e4 || (abs(v) < 1e-2 && v != 0) ? String(format: "%.2e", v) : String(format: "%.3g", v)
    }
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
            of: ">", with: "&gt;")
    }
}
