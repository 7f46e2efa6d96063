import Foundation
import Testing

@testable import Backprop

/// Every function of two operands at the boundaries of each, against PyTorch and JAX
/// (TwoOperandReferences.swift, from Tests/Reference/two_operand_boundaries.py).
@Suite("Two operands at their boundaries, against PyTorch and JAX")
struct TwoOperandBoundaryTests {
  /// One case of the grid: a function at (a, b), and each framework's value and partials.
  struct Case: CustomStringConvertible {
    var function: String
    var a: Double
    var b: Double
    var torch: [Double?]
    var jax: [Double?]

    var description: String { "\(function)(\(a), \(b))" }
  }

  static let cases: [Case] = twoOperandReferences.split(separator: "\n").map { line in
    let field = line.split(separator: " ").map(String.init)
    let number = { (text: String) -> Double? in text == "-" ? nil : Double(text)! }
    return Case(
      function: field[0], a: number(field[1])!, b: number(field[2])!,
      torch: field[3...5].map(number), jax: field[6...8].map(number))
  }

  /// Backprop's value and partials of `function` at (a, b), both operands variables.
  static func backprop(_ function: String, _ a: Double, _ b: Double) -> [Double] {
    let (value, (da, db)) = valueWithGradient(at: Tensor(a), Tensor(b), of: binary(function))
    return [value.scalar!, da.scalar!, db.scalar!]
  }

  /// The function the fixture names, of two variables.
  static func binary(_ function: String) -> (Variable, Variable) -> Variable {
    switch function {
    case "add": { $0 + $1 }
    case "subtract": { $0 - $1 }
    case "multiply": { $0 * $1 }
    case "divide": { $0 / $1 }
    case "pow": { pow($0, $1) }
    case "atan2": { atan2($0, $1) }
    case "hypot": { hypot($0, $1) }
    case "min": { min($0, $1) }
    case "max": { max($0, $1) }
    case "squaredDifference": { squaredDifference($0, $1) }
    case "huber": { Variable.apply(Huber.self, $0, $1) }
    case "binaryCrossEntropy": { Variable.apply(BinaryCrossEntropy.self, $0, $1) }
    case "elu": { Variable.apply(ExponentialLinearUnit.self, $0, $1) }
    case "leakyRelu": { Variable.apply(LeakyRectifiedLinearUnit.self, $0, $1) }
    default: fatalError("no function \(function)")
    }
  }

  /// Whether two results agree: NaN with NaN, ±0 with ±0, infinities exactly, finite numbers
  /// within 8 ulps (the frameworks' formulas for a partial round differently: atan2's b/r/r
  /// against b/(a² + b²)).
  static func agree(_ x: Double, _ y: Double) -> Bool {
    if x.isNaN || y.isNaN { return x.isNaN && y.isNaN }
    if x == y { return true }
    if x.isInfinite || y.isInfinite { return false }
    return Swift.abs(x - y) <= 8 * Swift.max(Swift.abs(x).ulp, Swift.abs(y).ulp)
  }

  /// Backprop's value and partials at every point of the grid of `function` at once, as
  /// tensors: the vectorized kernels' path, where ``backprop(_:_:_:)`` takes the scalar one.
  static func backprop(_ function: String, at cases: [Case]) -> [[Double]] {
    let a = Tensor(cases.map(\.a))
    let b = Tensor(cases.map(\.b))
    let f = binary(function)
    let value = f(Variable(a), Variable(b)).value
    let (da, db) = gradient(at: a, b) { f($0, $1).sum() }
    return cases.indices.map { [value.scalars[$0], da.scalars[$0], db.scalars[$0]] }
  }

  /// The value Backprop gives where it departs from PyTorch and JAX, each by a limit they do not
  /// take (docs/conventions.md's table of two-operand boundaries); nil where it follows them.
  static func departure(_ c: Case, _ k: Int) -> Double? {
    let (a, b) = (c.a, c.b)
    switch (c.function, k) {
    case ("atan2", 1...2) where a.isFinite && b.isFinite && (a, b) != (0, 0):
      // The exact b/(a² + b²) and −a/(a² + b²), scaled by 2^∓600 where a² + b² would overflow
      // or underflow; the frameworks' a² + b² does, and they give 0 (the true partial is
      // 1e−300 at (1, 1e300) and overflows to ∞ at (0, 5e−324)).
      let magnitude = Swift.max(Swift.abs(a), Swift.abs(b))
      guard magnitude > 1e150 || magnitude < 1e-150 else { return nil }
      let s = magnitude > 1 ? 0x1p-600 : 0x1p600
      let (sa, sb) = (a * s, b * s)
      let r2 = sa * sa + sb * sb
      return k == 1 ? sb / r2 * s : -sa / r2 * s
    case ("hypot", 1) where a.isInfinite && b.isFinite: return a > 0 ? 1 : -1
    case ("hypot", 2) where b.isInfinite && a.isFinite: return b > 0 ? 1 : -1
    case ("huber", 2) where b == .infinity && !a.isNaN: return 0
    case ("leakyRelu", 2) where a == .infinity: return 0
    case ("leakyRelu", 1) where a.isNaN: return .nan
    case ("min", 1...2), ("max", 1...2):
      return a.isNaN || b.isNaN ? .nan : nil
    case ("binaryCrossEntropy", 0) where b.isSubnormal && b > 0 && a <= -1e300:
      // The loss is y · softplus(−x) + (1 − y) · softplus(x) = y · (−x) + 0: the frameworks'
      // forms cancel (1e300 − 1e300) or meet 0 · ∞.
      return b * -a
    default: return nil
    }
  }

  /// The failures of Backprop's results (value, ∂/∂a, ∂/∂b) against one case.
  static func mismatches(_ c: Case, _ ours: [Double]) -> [String] {
    (0..<3).compactMap { k in
      let references = [c.torch[k], c.jax[k]].compactMap { $0 }
      let passes: Bool
      if let decided = departure(c, k) {
        passes = agree(ours[k], decided)
      } else if references.allSatisfy({ agree($0, references[0]) }) {
        passes = references.allSatisfy { agree(ours[k], $0) }
      } else {
        passes = references.contains { agree(ours[k], $0) }
      }
      let part = ["value", "∂/∂a", "∂/∂b"][k]
      return passes
        ? nil
        : "\(c) \(part): Backprop \(ours[k]), PyTorch \(c.torch[k].map { "\($0)" } ?? "-"), "
          + "JAX \(c.jax[k].map { "\($0)" } ?? "-")"
    }
  }

  static let functions = Array(Set(cases.map(\.function))).sorted()

  @Test("The value and both partials on scalars: PyTorch's and JAX's, or a decided limit")
  func scalars() {
    #expect(Self.cases.count == 3315)
    for c in Self.cases {
      let failures = Self.mismatches(c, Self.backprop(c.function, c.a, c.b))
      #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
  }

  @Test("The same on tensors, every case of a function in one sweep", arguments: functions)
  func tensors(function: String) {
    let cases = Self.cases.filter { $0.function == function }
    for (c, ours) in zip(cases, Self.backprop(function, at: cases)) {
      let failures = Self.mismatches(c, ours)
      #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
  }

  @Test("pow at a zero base: ∂/∂e 0ᵉ = 0 for e ≥ 0, and both partials of aᵇ at (0, 3) are 0")
  func powerAtZeroBase() {
    #expect(gradient(at: Tensor(2.0)) { e in pow(Variable(Tensor(0.0)), e) } == Tensor(0))
    let (da, db) = gradient(at: Tensor(0), Tensor(3)) { pow($0, $1) }
    #expect(da == Tensor(0) && db == Tensor(0))
    // ∂/∂a at b = 0 is 0 (a⁰ = 1), where b·a^(b−1) is 0 · ∞ at a = 0 and NaN at a = NaN.
    #expect(gradient(at: [0, .nan, 2]) { a in pow(a, Variable(Tensor(0))).sum() } == [0, 0, 0])
    // At a negative base, ∂/∂b is NaN (ln a), both frameworks' answer too.
    #expect(gradient(at: Tensor(3)) { b in pow(Variable(Tensor(-2)), b) }.scalar!.isNaN)
  }

  @Test("pow's Hessian in (a, b) at bases 0, ½, 1, 2: PyTorch's or JAX's, entry by entry")
  func powerHessian() {
    let rows = powerHessianReferences.split(separator: "\n").map {
      $0.split(separator: " ").map { Double(String($0))! }
    }
    #expect(rows.count == 24)
    for row in rows {
      let (a, b) = (row[0], row[1])
      let ours = hessian(at: Tensor([a, b])) { v in pow(v[0], v[1]) }.scalars
      for k in 0..<4 {
        let (torch, jax) = (row[2 + k], row[6 + k])
        if (a, b, k) == (0, 1, 1) {
          // ∂/∂b of ∂y/∂a = b·0^(b−1), which jumps from ∞ (b < 1) to 0 (b > 1): no limit, and
          // both frameworks give NaN. Backprop's 1 is what its first-derivative rules give
          // (∂/∂c 0ᶜ = 0 at c = 0, the frameworks' own rule); docs/conventions.md says so.
          #expect(ours[k] == 1 && torch.isNaN && jax.isNaN)
          continue
        }
        #expect(
          Self.agree(ours[k], torch) || Self.agree(ours[k], jax),
          "∂²(aᵇ) entry \(k) at (\(a), \(b)): Backprop \(ours[k]), PyTorch \(torch), JAX \(jax)")
      }
    }
  }
}
