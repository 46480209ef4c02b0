import Foundation

/// `tandem report`: one self-contained HTML page of a run directory — plots of every logged
/// quantity against step, the final results and confusion matrix, the resolved config, the
/// checkpoints and the last sample images (embedded as data URIs).
public enum RunReport {
    /// The series colours, in order (the first is the training loss).
    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]

    /// - Parameter directory: a run directory (metrics.jsonl and config.yaml at least).
    /// - Returns: the page.
    public static func html(runDirectory directory: String) throws -> String {
        let metricsPath = directory + "/metrics.jsonl"
        guard let text = try? String(contentsOfFile: metricsPath, encoding: .utf8) else {
            throw TrainingError(
                "\(metricsPath) is missing: tandem report reads a run directory (tandem train --run-dir DIR makes one)")
        }
        var lines: [[String: Any]] = []
        for (n, line) in text.split(separator: "\n").enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw TrainingError("\(metricsPath) line \(n + 1) is not a JSON object; the file is damaged")
            }
            lines.append(object)
        }
        let steps = lines.filter { $0["split"] == nil }, evaluations = lines.filter { $0["split"] != nil }
        func series(_ rows: [[String: Any]], _ key: String) -> [(x: Double, y: Double)] {
            rows.compactMap { row in
                guard let step = row["step"] as? Int,
                    let v = (row[key] as? Double) ?? (row[key] as? Int).map(Double.init)
                else { return nil }
                return (Double(step), v)
            }
        }
        var plots: [String] = []
        let validation = evaluations.filter { $0["split"] as? String == "validation" }
        plots.append(
            SVGPlot.lineChart(
                title: "loss", xLabel: "step",
                series: [
                    .init(name: "training", color: colors[0], points: series(steps, "loss")),
                    .init(name: "validation", color: colors[1], points: series(validation, "loss")),
                ].filter { !$0.points.isEmpty }))
        for key in ["loss_d", "loss_g", "lr", "grad_norm", "loss_scale", "samples_per_s", "step_ms", "exposed_comm_ms"]
        where !series(steps, key).isEmpty {
            plots.append(
                SVGPlot.lineChart(
                    title: key, xLabel: "step", series: [.init(name: key, color: colors[2], points: series(steps, key))]
                ))
        }
        let metricKeys = Set(validation.flatMap(\.keys)).subtracting([
            "split", "step", "epoch", "samples", "loss", "confusion_matrix",
            "precision", "recall", "f1", "classes",
        ]).sorted()
        for key in metricKeys where !series(validation, key).isEmpty {
            plots.append(
                SVGPlot.lineChart(
                    title: "validation \(key)", xLabel: "step",
                    series: [.init(name: key, color: colors[3], points: series(validation, key))]))
        }
        var page = """
            <!DOCTYPE html><html><head><meta charset="utf-8"><title>tandem report: \(SVGPlot.escape(directory))</title>
            <style>body{font-family:sans-serif;margin:24px;max-width:1200px} .plot{margin:6px;border:1px solid #ddd}
            table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:3px 7px;text-align:right} pre{background:#f6f6f6;padding:8px}</style>
            </head><body><h1>Run \(SVGPlot.escape((directory as NSString).lastPathComponent))</h1>
            """
        if let final = evaluations.last {
            let figures = final.filter { $0.value is Double || $0.value is Int }.sorted { $0.key < $1.key }
                .map { "<tr><th>\(SVGPlot.escape($0.key))</th><td>\(format($0.value))</td></tr>" }.joined()
            page +=
                "<h2>Final results (\(SVGPlot.escape(final["split"] as? String ?? "")))</h2><table>\(figures)</table>"
        }
        page += "<h2>Curves</h2><div>\(plots.joined())</div>"
        if let detailed = evaluations.last(where: { $0["confusion_matrix"] != nil }),
            let matrix = detailed["confusion_matrix"] as? [[Int]]
        {
            // Class names when the data has them (image folders, tables), else the label numbers.
            let names = detailed["classes"] as? [String] ?? matrix.indices.map(String.init)
            let label = { (i: Int) in SVGPlot.escape(i < names.count ? names[i] : String(i)) }
            let header =
                "<tr><th>true \\ predicted</th>" + matrix.indices.map { "<th>\(label($0))</th>" }.joined() + "</tr>"
            let rows = matrix.enumerated().map { i, row in
                "<tr><th>\(label(i))</th>" + row.map { "<td>\($0)</td>" }.joined() + "</tr>"
            }.joined()
            page += "<h2>Confusion matrix</h2><table class=\"confusion\">\(header)\(rows)</table>"
        }
        let images = ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/images")) ?? []).filter {
            $0.hasSuffix(".png")
        }.sorted()
        if let lastEpoch = images.last.map({ String($0.prefix(9)) }) {
            page += "<h2>Images (\(SVGPlot.escape(lastEpoch)))</h2>"
            for name in images where name.hasPrefix(lastEpoch) {
                let data = (try? Data(contentsOf: URL(fileURLWithPath: directory + "/images/" + name))) ?? Data()
                page +=
                    "<figure style=\"display:inline-block\"><img src=\"data:image/png;base64,\(data.base64EncodedString())\"><figcaption>\(SVGPlot.escape(name))</figcaption></figure>"
            }
        }
        let checkpoints = ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/checkpoints")) ?? [])
            .filter { $0.hasPrefix("step-") }.sorted()
        let latest = (try? String(contentsOfFile: directory + "/checkpoints/latest", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        page +=
            "<h2>Checkpoints</h2><ul>" + checkpoints.map { "<li>\($0)\($0 == latest ? " (latest)" : "")</li>" }.joined()
            + "</ul>"
        let config =
            (try? String(contentsOfFile: directory + "/config.yaml", encoding: .utf8)) ?? "(config.yaml missing)"
        page += "<h2>Config</h2><pre>\(SVGPlot.escape(config))</pre></body></html>\n"
        return page
    }

    static func format(_ value: Any) -> String {
        if let d = value as? Double { return String(format: abs(d) >= 100 ? "%.1f" : "%.4f", d) }
        return "\(value)"
    }
}
