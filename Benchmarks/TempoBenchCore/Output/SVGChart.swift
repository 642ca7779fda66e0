import Foundation
import Tempo

/// A bar chart of a run: GFLOP/s for compute-bound cases and GB/s for memory-bound ones, one bar
/// per device (and thread count) in each case's group, with each device's SGEMM peak marked.
public enum SVGChart {
    static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#edc948", "#9c755f"]
    static let width = 980.0
    static let labelWidth = 280.0
    static let barAreaWidth = 560.0
    static let barHeight = 14.0
    static let barGap = 3.0
    static let groupGap = 14.0

    /// One bar series: a device at a thread count.
    struct Series: Hashable {
        let device: String
        let threads: Int
        var label: String { "\(device) (\(threads) threads)" }
    }

    public static func render(_ outcome: RunOutcome, context: ResultFiles.Context) -> String {
        let measurements = outcome.measurements
        var series: [Series] = []
        for m in measurements {
            let s = Series(device: m.device.id, threads: m.threads)
            if !series.contains(s) { series.append(s) }
        }
        let color = { (s: Series) in palette[(series.firstIndex(of: s) ?? 0) % palette.count] }

        var body: [String] = []
        var y = 56.0
        // Legend.
        var x = labelWidth
        for s in series {
            body.append(#"<rect x="\#(x)" y="\#(y - 10)" width="12" height="12" fill="\#(color(s))"/>"#)
            body.append(#"<text x="\#(x + 16)" y="\#(y)" class="legend">\#(escape(s.label))</text>"#)
            x += 28 + Double(s.label.count) * 6.5
        }
        y += 24

        let panels: [(title: String, unit: String, cases: [Measurement], value: (Measurement) -> Double)] = [
            ("Compute-bound: GFLOP/s (dashed: the device's SGEMM peak)", "GFLOP/s", measurements.filter { $0.benchCase.flops > 0 }, { $0.gflops }),
            ("Memory-bound: GB/s", "GB/s", measurements.filter { $0.benchCase.flops == 0 }, { $0.gigabytesPerSecond }),
        ]
        for panel in panels where !panel.cases.isEmpty {
            let peaks = panel.unit == "GFLOP/s" ? panel.cases.compactMap(\.sgemmPeak) : []
            let (scaleMaximum, tickStep) = axis(for: (panel.cases.map(panel.value) + peaks).max() ?? 1)
            let scale = { (value: Double) in barAreaWidth * max(value, 0) / scaleMaximum }
            body.append(#"<text x="10" y="\#(y)" class="panel">\#(escape(panel.title))</text>"#)
            y += 10
            let top = y
            var groups: [String] = []
            for m in panel.cases where !groups.contains(m.benchCase.name) { groups.append(m.benchCase.name) }
            for group in groups {
                let rows = panel.cases.filter { $0.benchCase.name == group }
                let groupHeight = Double(rows.count) * (barHeight + barGap)
                body.append(#"<text x="\#(labelWidth - 8)" y="\#(y + groupHeight / 2 + 4)" class="case" text-anchor="end">\#(escape(group))</text>"#)
                for m in rows {
                    let s = Series(device: m.device.id, threads: m.threads)
                    let value = panel.value(m)
                    let length = scale(value)
                    body.append(
                        #"<rect class="bar" x="\#(labelWidth)" y="\#(y)" width="\#(format(length))" height="\#(barHeight)" fill="\#(color(s))"><title>\#(escape("\(group) on \(s.label): \(format(value)) \(panel.unit), median \(format(m.median)) ms"))</title></rect>"#)
                    body.append(#"<text x="\#(labelWidth + length + 4)" y="\#(y + barHeight - 3)" class="value">\#(format(value))</text>"#)
                    if let peak = m.sgemmPeak, panel.unit == "GFLOP/s" {
                        let px = labelWidth + scale(peak)
                        body.append(#"<line x1="\#(px)" y1="\#(y - 1)" x2="\#(px)" y2="\#(y + barHeight + 1)" stroke="\#(color(s))" stroke-dasharray="3,2" stroke-width="1.5"/>"#)
                    }
                    y += barHeight + barGap
                }
                y += groupGap
            }
            // Grid lines and labels at round values.
            for tick in 0...Int((scaleMaximum / tickStep).rounded()) {
                let value = Double(tick) * tickStep
                let tx = labelWidth + scale(value)
                body.insert(#"<line x1="\#(tx)" y1="\#(top)" x2="\#(tx)" y2="\#(y - groupGap)" class="grid"/>"#, at: 0)
                body.append(#"<text x="\#(tx)" y="\#(y + 2)" class="tick" text-anchor="middle">\#(format(value))</text>"#)
            }
            body.append(#"<text x="\#(labelWidth + barAreaWidth)" y="\#(y + 16)" class="tick" text-anchor="end">\#(panel.unit)</text>"#)
            y += 44
        }

        let height = y + 10
        let title = "tempo-bench: \(context.machine), \(context.date)"
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif">
            <style>
            .title { font-size: 16px; font-weight: bold; fill: #222; }
            .panel { font-size: 13px; font-weight: bold; fill: #333; }
            .case { font-size: 11px; fill: #333; }
            .value { font-size: 10px; fill: #444; }
            .legend { font-size: 11px; fill: #333; }
            .tick { font-size: 10px; fill: #666; }
            .grid { stroke: #e3e3e3; stroke-width: 1; }
            </style>
            <rect width="100%" height="100%" fill="white"/>
            <text x="10" y="24" class="title">\(escape(title))</text>
            \(body.joined(separator: "\n"))
            </svg>

            """
    }

    /// An axis end at or above `maximum` and a round tick step (1, 2 or 5 times a power of ten)
    /// giving four to ten ticks.
    static func axis(for maximum: Double) -> (end: Double, step: Double) {
        guard maximum > 0, maximum.isFinite else { return (1, 0.25) }
        let magnitude = pow(10, floor(log10(maximum / 5)))
        let step = [1.0, 2.0, 5.0, 10.0].map { $0 * magnitude }.first { maximum / $0 <= 8 } ?? 10 * magnitude
        return ((maximum / step).rounded(.up) * step, step)
    }

    static func format(_ value: Double) -> String {
        value == 0 ? "0" : value >= 100 ? String(format: "%.0f", value) : value >= 10 ? String(format: "%.1f", value) : String(format: "%.2f", value)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
