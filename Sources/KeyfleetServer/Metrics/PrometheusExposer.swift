internal import CoreMetrics
internal import Prometheus

/// A Prometheus registry of one server's own and the swift-metrics factory that records into it.
struct PrometheusExposer: Sendable {
    /// Makes the instruments; everything they record lands in this exposer's registry only.
    let factory: any MetricsFactory
    private let registry: PrometheusCollectorRegistry
    private let help: [String: String]

    /// An empty registry; `help` gives each metric's `# HELP` text, `durationBuckets` the upper bounds, in
    /// seconds, of the histograms swift-metrics timers of that name record into.
    init(help: [String: String], durationBuckets: [String: [Double]]) {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = durationBuckets.mapValues { $0.map { Duration.nanoseconds(Int64($0 * 1e9)) } }
        self.registry = registry
        self.factory = factory
        self.help = help
    }

    /// Every metric in the Prometheus text format (version 0.0.4), each family's `# HELP` line before its `# TYPE` line.
    func text() -> String {
        var lines: [Substring] = []
        for line in registry.emitToString().split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# TYPE ") {
                let name = line.dropFirst("# TYPE ".count).prefix { $0 != " " }
                if let help = help[String(name)] {
                    lines.append("# HELP \(name) \(help.replacingBackslashes)")
                }
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
    }
}

extension String {
    /// The text with `\` written `\\`, as `# HELP` lines need.
    fileprivate var replacingBackslashes: String {
        reduce(into: "") { $0 += $1 == "\\" ? "\\\\" : String($1) }
    }
}
