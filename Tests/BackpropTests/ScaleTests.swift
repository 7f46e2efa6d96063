import Foundation
import Testing

@testable import Backprop

/// The resident and peak memory of this process, from /proc (Linux), in megabytes.
func memoryInMegabytes() -> (resident: Double, peak: Double) {
  guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
    return (0, 0)
  }
  func field(_ name: String) -> Double {
    for line in status.split(separator: "\n") where line.hasPrefix(name) {
      return Double(line.split(separator: " ").compactMap { Int($0) }.first ?? 0) / 1024
    }
    return 0
  }
  return (field("VmRSS:"), field("VmHWM:"))
}

@Suite("Scale: long chains and large tensors record, sweep and free", .serialized)
struct ScaleTests {
  @Test("A chain of 10⁷ rank-0 operations")
  func tenMillionEntryChain() {
    let steps = 10_000_000
    let before = memoryInMegabytes()
    var gradient = 0.0
    do {
      let tape = Tape()
      let x = tape.variable(Tensor(0.5))
      var y = x
      for _ in 0..<steps { y = y * 0.999_999_9 }
      #expect(tape.count == steps + 1, "each step records the product; the constant is beside")
      #expect(tape.constants.count == steps)
      gradient = tape.gradient(of: y, wrt: x).scalar!
    }
    let after = memoryInMegabytes()
    // d/dx (x · cᴺ) = cᴺ, with c = 1 − 10⁻⁷ and N = 10⁷: about e⁻¹.
    let expected = Foundation.pow(0.999_999_9, Double(steps))
    #expect(abs(gradient - expected) <= 1e-9)
    print(
      "10⁷-step chain (\(steps + 1) entries, \(steps) constants): peak resident \(Int(after.peak)) MB "
        + "(\(Int(before.resident)) MB before, \(Int(after.resident)) MB after the tape was freed)")
  }

  @Test("A graph over tensors of 10⁶ scalars")
  func millionScalarTensors() {
    let n = 1_000_000
    let x = Tensor((0..<n).map { Double($0 % 1000) / 500 - 1 })
    let before = memoryInMegabytes()
    let (value, g) = valueWithGradient(at: x) { x in
      let h = tanh(x * 1.5 + 0.25)
      return (logSoftmax(h) * Tensor(repeating: 1e-6, shape: [n])).sum() + (h * h).mean()
    }
    let after = memoryInMegabytes()
    #expect(value.isFinite && g.isFinite && g.shape == [n])
    expectGradientMatchesFiniteDifferences(at: Tensor(Array(x.scalars.prefix(5)))) { x in
      let h = tanh(x * 1.5 + 0.25)
      return (logSoftmax(h) * Tensor(repeating: 1e-6, shape: [5])).sum() + (h * h).mean()
    }
    print(
      "graph over 10⁶-scalar tensors: resident \(Int(after.resident)) MB after, \(Int(before.resident)) MB before"
        + " (process peak so far \(Int(after.peak)) MB)")
  }
}
