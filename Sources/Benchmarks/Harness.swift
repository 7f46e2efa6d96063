import BackpropKernels
import Foundation

/// How hard to run: the full sizes, or tiny ones that only prove the benchmark still works.
struct Settings {
  var quick = false
  /// Runs per median, when set: more than the default gives a profiler more samples.
  var repeatsOverride: Int?
  var repeats: Int { repeatsOverride ?? (quick ? 1 : 21) }
  /// Whether variants compared with each other take turns, one run each, instead of running
  /// back to back: a check on how much each disturbs the other (see docs/performance.md).
  var interleaved = false
  var warmUps: Int { quick ? 0 : 3 }
  /// Only W7's formulas whose names contain this, when set.
  var formula: String?
}

/// One timed variant: what it is, its median time, and the baseline it is compared with.
struct Row {
  var workload: String
  var variant: String
  var seconds: Double
  var baseline: String
  var baselineSeconds: Double
  var target: String
  /// Whether the target is met, or `nil` where the row is for information only.
  var met: Bool?
  var note = ""

  var ratio: Double { seconds / baselineSeconds }
}

/// The median wall time of `body` over repeated runs, after warm-up runs.
///
/// The median, not the mean or minimum: this machine is shared, and the median ignores the
/// runs another process disturbed without rewarding a lucky one.
func median(_ settings: Settings, _ body: () -> Void) -> Double {
  for _ in 0..<settings.warmUps { body() }
  let clock = ContinuousClock()
  var samples: [Double] = []
  for _ in 0..<settings.repeats {
    let elapsed = clock.measure(body)
    samples.append(
      Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
  }
  samples.sort()
  return samples[samples.count / 2]
}

/// The median wall time of each body: each body's runs back to back, or with
/// `settings.interleaved` one run of each body in turn.
func medians(_ settings: Settings, _ bodies: [() -> Void]) -> [Double] {
  guard settings.interleaved else { return bodies.map { median(settings, $0) } }
  for _ in 0..<settings.warmUps { for body in bodies { body() } }
  let clock = ContinuousClock()
  var samples = [[Double]](repeating: [], count: bodies.count)
  for _ in 0..<settings.repeats {
    for (index, body) in bodies.enumerated() {
      let elapsed = clock.measure(body)
      samples[index].append(
        Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }
  }
  return samples.map { $0.sorted()[$0.count / 2] }
}

/// The minor page faults this process takes per run of `body`, over 5 runs after one: the
/// memory a gradient touches for the first time, which the kernel zeroes (a fresh 8 MB buffer
/// is 4 or 5 huge pages, or about 2,000 small ones). Reported beside a time, not timed.
func pageFaults(_ body: () -> Void) -> Double {
  body()
  func faults() -> Int {
    var usage = rusage()
    // Glibc imports RUSAGE_SELF as a case of an enumeration, Darwin as an Int32.
    #if canImport(Glibc)
      getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
      getrusage(RUSAGE_SELF, &usage)
    #endif
    return usage.ru_minflt
  }
  let before = faults()
  for _ in 0..<5 { body() }
  return Double(faults() - before) / 5
}

/// Keeps a value alive and opaque to the optimizer, so the work that made it is not removed.
@inline(never)
@_optimize(none)
func consume<T>(_ value: T) {
  withExtendedLifetime(value) {}
}

/// A duration in the unit that suits it.
func format(seconds: Double) -> String {
  switch seconds {
  case ..<1e-6: String(format: "%.0f ns", seconds * 1e9)
  case ..<1e-3: String(format: "%.2f µs", seconds * 1e6)
  case ..<1: String(format: "%.2f ms", seconds * 1e3)
  default: String(format: "%.2f s", seconds)
  }
}

/// The resident set size of this process, from /proc (Linux), in bytes.
func residentBytes() -> Int {
  guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
    return 0
  }
  for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
    let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
    return kilobytes * 1024
  }
  return 0
}

/// The processor these figures come from, and the kernels' register width: its model name, with
/// the family and model numbers where a hypervisor hides the name (Linux), or its brand string
/// (Darwin), then the width the kernels ran at of the widest the processor has.
func processorDescription() -> String {
  #if arch(x86_64)
    let architecture = "x86-64"
  #elseif arch(arm64)
    let architecture = "arm64"
  #else
    let architecture = "other architecture"
  #endif
  var model = architecture
  #if canImport(Darwin)
    var size = 0
    if sysctlbyname("machdep.cpu.brand_string", nil, &size, nil, 0) == 0, size > 0 {
      var name = [CChar](repeating: 0, count: size)
      if sysctlbyname("machdep.cpu.brand_string", &name, &size, nil, 0) == 0 {
        model = "\(String(cString: name)), \(architecture)"
      }
    }
  #else
    if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) {
      var fields: [String: String] = [:]
      for line in info.split(separator: "\n") {
        let parts = line.split(separator: ":", maxSplits: 1)
        guard parts.count == 2 else { continue }
        let key = parts[0].trimmingCharacters(in: .whitespaces)
        if fields[key] == nil { fields[key] = parts[1].trimmingCharacters(in: .whitespaces) }
      }
      if let name = fields["model name"] {
        model = "\(name) (family \(fields["cpu family"] ?? "?"), model \(fields["model"] ?? "?"))"
      }
    }
  #endif
  let widths = [512: "AVX-512", 256: "AVX2", 0: "portable"]
  let width = Int(bp_kernel_width())
  let widest = Int(bp_machine_kernel_width())
  return "\(model); kernels at \(widths[width] ?? "\(width)") (widest here: "
    + "\(widths[widest] ?? "\(widest)"); BACKPROP_KERNEL_WIDTH chooses)"
}
