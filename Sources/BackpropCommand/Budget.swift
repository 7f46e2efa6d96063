import Backprop
import Foundation

/// What evaluating an expression costs, added up node by node as the checker walks it: the
/// scalar operations of the forward pass, the scalars the tape keeps, and the largest of them.
final class Tally {
  /// Scalar operations in the forward pass (a matrix product of [m, k] and [k, n]: m k n).
  private(set) var operations = 0.0
  /// Scalars the tape holds once the forward pass has run: every entry's value and constant.
  private(set) var stored = 0.0
  /// The most scalars one entry holds: what one VJP's temporaries are sized by.
  private(set) var largest = 0.0

  /// What recording one entry costs beyond its arithmetic (making its tensor and its record):
  /// measured at a few microseconds in a debug build, about 250 operations' worth.
  static let entryOverhead = 256.0

  /// Adds a node that records `entries` entries doing `operations` scalar operations in all.
  func add(operations: Double = 0, stored: Double, entries: Double = 1) {
    self.operations += operations + entries * Self.entryOverhead
    self.stored += stored
    largest = Swift.max(largest, stored)
  }
}

/// The memory and time a command may use, checked before anything is evaluated, so that no
/// input makes the command exhaust the machine or run for hours: the estimate of what the
/// requested operator will cost is compared with the budget, and a request over it is refused
/// with an `error:` line that names the budget and how to raise it.
///
/// The estimates are upper bounds, in the units below, measured against the command's own
/// runs (docs/reliability.md): a scalar costs 8 bytes where it is kept, an operation one unit
/// of work, and a printed number 20 units (formatting it costs about that many operations).
struct Budget {
  /// Bytes the command may use, 4 GiB unless `--max-memory` says otherwise.
  var memory: Double = 4 * 1_073_741_824
  /// Scalar operations the command may perform, 10⁹ unless `--max-work` says otherwise: about
  /// a second in a release build and half a minute in a debug build.
  var work: Double = 1e9
  /// Bytes the command may print, 16 MiB unless `--max-output` says otherwise.
  var output: Double = 16 * 1_048_576

  /// The bytes one printed number may take at most, with its separator:
  /// `-1.2345678901234567e-308, ` in JSON, where the text form is shorter.
  static let bytesPerNumber = 26.0

  /// What a run is estimated to need.
  struct Estimate {
    var bytes: Double
    var work: Double
    /// The numbers the result prints.
    var numbers: Double
  }

  /// The estimate for `command` on an expression whose checked cost is `tally`, with an
  /// output of `outputCount` scalars and variables of `variableCounts` scalars each.
  static func estimate(
    _ command: CommandName, tally: Tally, outputCount: Double, variableCounts: [Double]
  ) -> Estimate {
    let inputs = variableCounts.reduce(0, +)
    // The tape's values, one adjoint per entry, and a VJP's temporaries (up to four of the
    // largest entry's size), plus what the process needs before any of it (64 MiB).
    let stored = tally.stored + inputs
    let sweepBytes = 8 * (2 * stored + 4 * tally.largest) + 64 * 1_048_576
    // A backward sweep costs at most three forward passes.
    let sweep = 3 * tally.operations
    let printed = 20.0
    switch command {
    case .grad:
      return Estimate(
        bytes: sweepBytes, work: tally.operations + sweep + printed * (inputs + 1),
        numbers: inputs + 1)
    case .jacobian:
      return Estimate(
        bytes: sweepBytes + 8 * 2 * outputCount * inputs,
        work: tally.operations + outputCount * (sweep + inputs) + printed * outputCount * inputs,
        numbers: outputCount * (inputs + 1))
    case .hessian:
      // The gradient is recorded (about four entries per forward entry), then swept once per
      // input scalar; the Hessian in all the variables is N × N, N the scalars of them all,
      // its blocks mixed ones included.
      let square = inputs * inputs
      return Estimate(
        bytes: 8 * (10 * stored + 4 * tally.largest) + 64 * 1_048_576 + 8 * 2 * square,
        work: tally.operations + sweep + inputs * 4 * sweep + printed * square,
        numbers: square + inputs + 1)
    case .check:
      // Central differences: four forward passes per input scalar (steps h and h/2).
      return Estimate(
        bytes: sweepBytes,
        work: (4 * inputs + 1) * tally.operations + sweep + printed * 2 * inputs,
        numbers: 3 * inputs + 1)
    case .softmax:
      return softmax(count: inputs)
    }
  }

  /// `backprop softmax` of n numbers: four n × n Jacobians built (by n sweeps, by 4n
  /// evaluations of softmax) and printed.
  static func softmax(count n: Double) -> Estimate {
    Estimate(
      bytes: 8 * 8 * n * n + 40 * 4 * n * n + 64 * 1_048_576, work: 30 * n * n + 20 * 4 * n * n,
      numbers: 4 * n * n + 4 * n)
  }

  /// Refuses an estimate over the budget, naming the budget and the option that raises it.
  func check(_ estimate: Estimate, command: CommandName) throws(CommandError) {
    if estimate.bytes > memory {
      throw CommandError(
        "this \(command.rawValue) would need about \(Self.bytes(estimate.bytes)) of memory, more"
          + " than the budget of \(Self.bytes(memory)); raise it with --max-memory")
    }
    if estimate.work > work {
      throw CommandError(
        "this \(command.rawValue) would take about \(Self.count(estimate.work)) scalar operations,"
          + " more than the budget of \(Self.count(work)); raise it with --max-work")
    }
    if Self.bytesPerNumber * estimate.numbers > output {
      throw outputError(
        "this \(command.rawValue) would print \(Self.count(estimate.numbers)) numbers, up to "
          + Self.bytes(Self.bytesPerNumber * estimate.numbers))
    }
  }

  /// The error for output over the budget, `what` saying how much.
  func outputError(_ what: String) -> CommandError {
    CommandError(
      "\(what), more than the output budget of \(Self.bytes(output)); raise it with --max-output")
  }

  static func bytes(_ value: Double) -> String {
    if value < 1_048_576 { return "\(Self.short(value / 1024)) KiB" }
    return value >= 1_073_741_824
      ? "\(Self.short(value / 1_073_741_824)) GiB" : "\(Self.short(value / 1_048_576)) MiB"
  }

  static func count(_ value: Double) -> String {
    let exponent = Int(Foundation.log10(Swift.max(value, 1)).rounded(.down))
    let mantissa = value / Foundation.pow(10, Double(exponent))
    return "\(Self.short(mantissa))e\(exponent)"
  }

  private static func short(_ value: Double) -> String {
    let rounded = (value * 10).rounded() / 10
    return rounded == rounded.rounded() ? "\(Int(rounded))" : "\(rounded)"
  }

  /// Reads `--max-memory`'s value: bytes, or a number with K, M, G or T (binary units).
  static func parseBytes(_ text: String) -> Double? {
    let units: [Character: Double] = [
      "K": 1024, "M": 1_048_576, "G": 1_073_741_824, "T": 1_099_511_627_776,
    ]
    var digits = Substring(text.uppercased())
    var scale = 1.0
    if digits.hasSuffix("IB") {
      digits = digits.dropLast(2)
    } else if digits.hasSuffix("B") {
      digits = digits.dropLast()
    }
    if let last = digits.last, let unit = units[last] {
      scale = unit
      digits = digits.dropLast()
    }
    guard let value = Double(digits), value.isFinite, value > 0 else { return nil }
    return value * scale
  }
}
