/// Keyfleet's version: what every executable prints for `--version`, what the server reports at `/health`
/// and what the host agent sends with its reports. One constant, so that they cannot drift apart.
public let keyfleetVersion = "0.4.0"
