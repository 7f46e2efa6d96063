import Backprop
import Foundation
import Testing

// The accuracy audit: every value and derivative against a high-precision reference
// (ReferenceValues.swift, written by Tests/Reference/generate.py with mpmath), over the whole
// Double range. Errors are in ulps of the reference: |got − exact| / ulp(exact), where the ulp
// of 0 and of subnormals is the smallest subnormal, so tiny results are held to absolute
// accuracy there. An exact value that overflows (±∞) must be matched exactly.
//
// Where the computation is accurate only relative to a scale, not to the value itself, the
// bound says so: tanh′ = 1 − tanh² is accurate to a few ε absolute (the ulps are of 1 once
// |tanh′| < 1), as in PyTorch and JAX. docs/accuracy.md has the table this prints.

/// The error of `got` in ulps of `exact`, or of `scale` when that is larger.
func ulpError(_ got: Double, _ exact: Double, scale: Double = 0) -> Double {
  if got == exact || (got.isNaN && exact.isNaN) { return 0 }
  if !got.isFinite || !exact.isFinite { return .infinity }
  let unit = Swift.max(exact.magnitude, scale).ulp
  return (got - exact).magnitude / Swift.max(unit, .leastNonzeroMagnitude)
}

/// An elementwise function as Backprop spells it, with the bounds the audit holds it to, in
/// ulps: of the value, and of the first and second derivatives relative to max(|exact|, scale).
struct AuditedFunction: Sendable {
  let name: String
  let apply: @Sendable (Variable) -> Variable
  let bounds: (value: Double, first: Double, second: Double)
  /// The scale below which derivative errors are measured absolutely (0: always relative).
  var derivativeScale = 0.0
  /// Whether the second derivative's error is in ulps of |f′| where that is larger: σ″ is
  /// recorded as σ′σ(−x) − σ′σ(x), a difference of terms of size σ′ that cancels near 0 (and
  /// likewise asin″, acos″ and atanh″ through (1 − x)(1 + x)).
  var secondRelativeToFirst = false
  /// How much the problem itself amplifies a rounding at x, which multiplies every bound
  /// (1 for a well-conditioned function): gelu rounds x/√2 into erfc, whose condition number
  /// there is about x²; swish multiplies a subnormal σ(x), exact to half a subnormal ulp, by x.
  var conditioning: @Sendable (Double) -> Double = { _ in 1 }
}

let auditedFunctions: [AuditedFunction] = [
  .init(name: "exp", apply: { exp($0) }, bounds: (1, 1, 1)),
  .init(name: "log", apply: { log($0) }, bounds: (1, 1, 2)),
  .init(name: "sqrt", apply: { sqrt($0) }, bounds: (0.5, 2, 4)),
  .init(name: "tanh", apply: { tanh($0) }, bounds: (1, 2, 4), derivativeScale: 1),
  .init(name: "sigmoid", apply: { sigmoid($0) }, bounds: (2, 4, 8), secondRelativeToFirst: true),
  .init(name: "square", apply: { pow($0, 2) }, bounds: (0.5, 0, 0)),
  .init(name: "cube", apply: { pow($0, 3) }, bounds: (1, 1, 2)),
  .init(name: "pow0.5", apply: { pow($0, 0.5) }, bounds: (1, 2, 4)),
  .init(name: "pow2.5", apply: { pow($0, 2.5) }, bounds: (1, 2, 4)),
  .init(name: "pow-1", apply: { pow($0, -1) }, bounds: (1, 2, 4)),
  .init(name: "reciprocal", apply: { 1 / $0 }, bounds: (0.5, 1, 2)),
  .init(name: "sin", apply: { sin($0) }, bounds: (1, 1, 1)),
  .init(name: "cos", apply: { cos($0) }, bounds: (1, 1, 1)),
  .init(name: "tan", apply: { tan($0) }, bounds: (2, 4, 8)),
  .init(name: "asin", apply: { asin($0) }, bounds: (1, 2, 4), secondRelativeToFirst: true),
  .init(name: "acos", apply: { acos($0) }, bounds: (1, 2, 4), secondRelativeToFirst: true),
  .init(name: "atan", apply: { atan($0) }, bounds: (1, 2, 4)),
  .init(name: "sinh", apply: { sinh($0) }, bounds: (2, 2, 2)),
  .init(name: "cosh", apply: { cosh($0) }, bounds: (2, 2, 2)),
  .init(name: "asinh", apply: { asinh($0) }, bounds: (2, 2, 4)),
  .init(name: "acosh", apply: { acosh($0) }, bounds: (2, 2, 4)),
  .init(name: "atanh", apply: { atanh($0) }, bounds: (2, 2, 4), secondRelativeToFirst: true),
  .init(name: "exp2", apply: { exp2($0) }, bounds: (1, 2, 2)),
  .init(name: "expm1", apply: { expm1($0) }, bounds: (1, 1, 1)),
  .init(name: "log2", apply: { log2($0) }, bounds: (1, 2, 2)),
  .init(name: "log10", apply: { log10($0) }, bounds: (2, 2, 2)),
  .init(name: "log1p", apply: { log1p($0) }, bounds: (1, 1, 4)),
  .init(name: "abs", apply: { abs($0) }, bounds: (0, 0, 0)),
  .init(name: "sign", apply: { sign($0) }, bounds: (0, 0, 0)),
  .init(name: "rsqrt", apply: { rsqrt($0) }, bounds: (1, 4, 8)),
  .init(name: "erf", apply: { erf($0) }, bounds: (1, 2, 4)),
  .init(name: "erfc", apply: { erfc($0) }, bounds: (2, 2, 4)),
  .init(name: "softplus", apply: { softplus($0) }, bounds: (2, 2, 4)),
  .init(name: "logSigmoid", apply: { logSigmoid($0) }, bounds: (2, 2, 4)),
  .init(name: "gelu", apply: { gelu($0) }, bounds: (4, 8, 8), conditioning: { 1 + $0 * $0 }),
  .init(name: "swish", apply: { swish($0) }, bounds: (2, 2, 2), conditioning: { max(1, abs($0)) }),
  .init(name: "leakyRelu", apply: { leakyRelu($0) }, bounds: (1, 1, 0)),
  .init(name: "elu", apply: { elu($0) }, bounds: (1, 1, 1)),
]

@Suite("Accuracy audit against a high-precision reference, over the whole Double range")
struct AccuracyAuditTests {
  @Test("Elementwise values, first and second derivatives", arguments: auditedFunctions.map(\.name))
  func elementwise(name: String) {
    let audited = auditedFunctions.first { $0.name == name }!
    let cases = elementwiseReference.filter { $0.function == name }
    #expect(cases.count >= 10, "the reference has \(cases.count) points for \(name)")
    var worst = (value: 0.0, first: 0.0, second: 0.0)
    for point in cases {
      func scaled(_ errors: (Double, Double, Double)) -> (Double, Double, Double) { errors }
      let x = Tensor(point.x)
      // The rank-0 path (rules on Double) and the tensor path must agree to the bit.
      let (value, first) = valueWithGradient(at: x) { audited.apply($0) }
      let vectorFirst = gradient(at: Tensor([point.x])) { audited.apply($0).sum() }
      #expect(
        vectorFirst.scalars[0].bitPattern == first.scalar!.bitPattern
          || (vectorFirst.scalars[0].isNaN && first.scalar!.isNaN),
        "\(name)′(\(point.x)): rank 0 \(first), vector \(vectorFirst)")
      let second = hessian(at: x) { audited.apply($0) }.scalar!
      let condition = audited.conditioning(point.x)
      // At a pole of f′ (asin at ±1) the chain rule meets ∞ · 0 and f″ is NaN: not measured.
      let secondError =
        point.first.isInfinite
        ? 0
        : ulpError(
          second, point.second,
          scale: Swift.max(
            audited.derivativeScale, audited.secondRelativeToFirst ? point.first.magnitude : 0))
      let errors = (
        ulpError(value.scalar!, point.value) / condition,
        ulpError(first.scalar!, point.first, scale: audited.derivativeScale) / condition,
        secondError / condition
      )
      #expect(
        errors.0 <= audited.bounds.value,
        "\(name)(\(point.x)) = \(value.scalar!), exact \(point.value): \(errors.0) ulps")
      #expect(
        errors.1 <= audited.bounds.first,
        "\(name)′(\(point.x)) = \(first.scalar!), exact \(point.first): \(errors.1) ulps")
      #expect(
        errors.2 <= audited.bounds.second,
        "\(name)″(\(point.x)) = \(second), exact \(point.second): \(errors.2) ulps")
      worst = (
        Swift.max(worst.value, errors.0), Swift.max(worst.first, errors.1),
        Swift.max(worst.second, errors.2)
      )
    }
    print(
      "accuracy | \(name) | \(cases.count) points | value \(worst.value) | first \(worst.first) | second \(worst.second)"
    )
  }

  @Test("Functions of two operands: values and both partial derivatives")
  func binary() {
    let functions: [String: (Variable, Variable) -> Variable] = [
      "pow": { pow($0, $1) }, "atan2": { atan2($0, $1) }, "hypot": { hypot($0, $1) },
    ]
    // In ulps of the exact value; the partials of atan2 and hypot are quotients of rounded
    // quotients, two or three roundings.
    let bounds: [String: (value: Double, partials: Double)] = [
      "pow": (1, 4), "atan2": (2, 4), "hypot": (1, 2),
    ]
    var worst: [String: (Double, Double)] = [:]
    for point in binaryReference {
      let f = functions[point.function]!
      let (value, (da, db)) = valueWithGradient(at: Tensor(point.a), Tensor(point.b)) { f($0, $1) }
      // Two documented edges are not measured: where hypot(a, b) is subnormal its partials
      // a/h and b/h divide by a value with a few bits left; pow's ∂/∂a at b = 0 with a
      // subnormal is 0 · ∞ (a^(b−1) overflows).
      let skipPartials =
        (point.function == "hypot" && point.value.magnitude < .leastNormalMagnitude)
        || (point.function == "pow" && point.b == 0 && point.a < .leastNormalMagnitude)
      let errors = (
        ulpError(value.scalar!, point.value),
        skipPartials ? 0 : Swift.max(ulpError(da.scalar!, point.da), ulpError(db.scalar!, point.db))
      )
      let bound = bounds[point.function]!
      #expect(
        errors.0 <= bound.value,
        "\(point.function)(\(point.a), \(point.b)) = \(value), exact \(point.value)")
      #expect(
        errors.1 <= bound.partials,
        "∂\(point.function)(\(point.a), \(point.b)) = \(da), \(db); exact \(point.da), \(point.db)")
      let previous = worst[point.function] ?? (0, 0)
      worst[point.function] = (Swift.max(previous.0, errors.0), Swift.max(previous.1, errors.1))
    }
    for (name, errors) in worst.sorted(by: { $0.key < $1.key }) {
      print("accuracy | \(name) | value \(errors.0) | partials \(errors.1)")
    }
  }

  /// Worst error over a vector, each entry in ulps of the largest |exact| entry (normwise):
  /// a gradient entry that is a difference of O(1) terms cannot be relatively accurate when it
  /// is tiny, and this is the bound its conditioning allows.
  func normwise(_ got: [Double], _ exact: [Double]) -> Double {
    let scale = exact.map(\.magnitude).max() ?? 0
    return zip(got, exact).map { ulpError($0, $1, scale: scale) }.max() ?? 0
  }

  @Test("The softmax family, fused and composed, values and gradients")
  func softmaxFamily() {
    var worst: [String: Double] = [:]
    func record(_ key: String, _ error: Double, bound: Double, _ detail: @autoclosure () -> String)
    {
      worst[key] = Swift.max(worst[key] ?? 0, error)
      #expect(error <= bound, "\(key): \(error) ulps > \(bound) at \(detail())")
    }
    for case let point in softmaxFamilyReference {
      let x = Tensor(point.x)
      let w = Tensor(point.weights)
      let row = x.reshaped(to: [1, point.x.count])
      for fused in [true, false] {
        let tag = fused ? "fused" : "composed"
        let soft: (Variable) -> Variable = { fused ? softmax($0) : composedSoftmax($0) }
        let logSoft: (Variable) -> Variable = { fused ? logSoftmax($0) : composedLogSoftmax($0) }
        let entropy: (Variable) -> Variable = {
          fused
            ? crossEntropy(logits: $0, labels: [0]) : composedCrossEntropy(logits: $0, labels: [0])
        }
        // Values: each entry relative to itself.
        let s = soft(Variable(x)).value.scalars
        record(
          "softmax value (\(tag))", zip(s, point.softmax).map { ulpError($0, $1) }.max()!,
          bound: 4, "\(point.x): \(s)")
        // The composed twin takes ln of the rounded Σ, which is accurate to ε absolute, not
        // relative when ln Σ is tiny (one dominant logit): its bound is in ulps of max(|y|, 1).
        let l = logSoft(Variable(x)).value.scalars
        record(
          "logSoftmax value (\(tag))",
          zip(l, point.logSoftmax).map { ulpError($0, $1, scale: fused ? 0 : 1) }.max()!,
          bound: 2, "\(point.x): \(l)")
        let e = entropy(Variable(row)).value.scalar!
        record(
          "crossEntropy value (\(tag))", ulpError(e, point.crossEntropy), bound: 2,
          "\(point.x): \(e)")
        // Gradients: normwise.
        let gs = gradient(at: x) { (soft($0) * w).sum() }.scalars
        record(
          "softmax gradient (\(tag))", normwise(gs, point.softmaxGradient), bound: 4,
          "\(point.x): \(gs)")
        let gl = gradient(at: x) { (logSoft($0) * w).sum() }.scalars
        record(
          "logSoftmax gradient (\(tag))", normwise(gl, point.logSoftmaxGradient), bound: 4,
          "\(point.x): \(gl)")
        let ge = gradient(at: row, of: entropy).scalars
        record(
          "crossEntropy gradient (\(tag))", normwise(ge, point.crossEntropyGradient), bound: 4,
          "\(point.x): \(ge)")
      }
      let lse = logSumExp(Variable(x)).value.scalar!
      record("logSumExp value", ulpError(lse, point.logSumExp), bound: 2, "\(point.x): \(lse)")
      let glse = gradient(at: x) { logSumExp($0) }.scalars
      record("logSumExp gradient", normwise(glse, point.softmax), bound: 4, "\(point.x): \(glse)")
    }
    for (key, error) in worst.sorted(by: { $0.key < $1.key }) {
      print("accuracy | \(key) | \(softmaxFamilyReference.count) vectors | \(error)")
    }
  }

  /// Log-sum-exp where one logit dominates: ln Σ is then tiny, and ln of the rounded Σ is
  /// accurate only to ε absolute (at [0, −40] it gave 0 for 4.25e−18). The fused entry takes
  /// ln1p of the other exponentials. Each vector alone, as a row of a matrix (the trailing
  /// axis), and with the axes transposed (a leading axis: the composed form, whose gradient is
  /// the same rule), against the mpmath values.
  @Test("logSumExp where one logit dominates: value to 2 ulps, gradient to 4, fused and composed")
  func logSumExpWhereOneLogitDominates() {
    var worst = (value: 0.0, gradient: 0.0)
    for point in logSumExpReference {
      let x = Tensor(point.x)
      let n = point.x.count
      let value = logSumExp(Variable(x)).value.scalar!
      let error = ulpError(value, point.value)
      worst.value = Swift.max(worst.value, error)
      #expect(error <= 2, "logSumExp(\(point.x)) = \(value), not \(point.value)")
      // Two rows, the second the first reversed: each row's own value.
      let rows = Tensor(shape: [2, n], scalars: point.x + point.x.reversed())
      let byRow = logSumExp(Variable(rows), alongAxes: -1).value
      #expect(byRow.shape == [2, 1])
      #expect(byRow.scalars.allSatisfy { ulpError($0, point.value) <= 2 }, "rows: \(byRow)")
      let g = gradient(at: x) { logSumExp($0) }.scalars
      let gradientError = normwise(g, point.gradient)
      worst.gradient = Swift.max(worst.gradient, gradientError)
      #expect(gradientError <= 4, "∇ logSumExp(\(point.x)) = \(g)")
      let gRows = gradient(at: rows) { logSumExp($0, alongAxes: 1).sum() }.scalars
      #expect(normwise(Array(gRows[..<n]), point.gradient) <= 4, "rows: \(gRows)")
      #expect(normwise(Array(gRows[n...].reversed()), point.gradient) <= 4, "rows: \(gRows)")
      // Along the leading axis of the transpose: composed, the same gradient rule.
      let columns = rows.transposed()
      let gColumns = gradient(at: columns) { logSumExp($0, alongAxes: 0).sum() }.transposed()
      #expect(normwise(Array(gColumns.scalars[..<n]), point.gradient) <= 4, "columns: \(gColumns)")
    }
    print(
      "accuracy | logSumExp, one logit dominant | \(logSumExpReference.count) vectors | value \(worst.value), gradient \(worst.gradient)"
    )
  }

  /// The fused entry (trailing axes) against the composed form (the same scalars on a leading
  /// axis, through a transpose or a column), value and gradient, at every magnitude, for one
  /// trailing axis, two, and all; and its Hessian through the recorded softmax rule.
  @Test("logSumExp fused = composed over trailing and leading axes, at magnitudes up to 1e300")
  func logSumExpFusedAgreesWithComposed() {
    var generator = SeededGenerator(seed: 12)
    for magnitude in [1.0, 40.0, 1e3, 1e17, 1e300] {
      let x = Tensor.random([3, 4, 5], in: -magnitude...magnitude, using: &generator)
      // [(fused input, its trailing axes, composed input, its leading axes, how to bring the
      // composed gradient back to x's layout)]
      let matrix = x.reshaped(to: [3, 20])
      let cases: [(Tensor, [Int], Tensor, [Int], (Tensor) -> Tensor)] = [
        (matrix, [1], matrix.transposed(), [0], { $0.transposed().reshaped(to: [3, 4, 5]) }),
        (x, [1, 2], matrix.transposed(), [0], { $0.transposed().reshaped(to: [3, 4, 5]) }),
        (
          x, [-1], x.reshaped(to: [12, 5]).transposed(), [0],
          {
            $0.transposed().reshaped(to: [3, 4, 5])
          }
        ),
        (x, [0, 1, 2], x.reshaped(to: [60, 1]), [0], { $0.reshaped(to: [3, 4, 5]) }),
      ]
      for (input, axes, other, leading, back) in cases {
        let fused = logSumExp(input, alongAxes: axes).scalars
        let composed = logSumExp(other, alongAxes: leading).scalars
        #expect(
          zip(fused, composed).allSatisfy { ulpError($0, $1, scale: 1) <= 4 },
          "values, axes \(axes), magnitude \(magnitude): \(fused) vs \(composed)")
        let gFused = gradient(at: input) { logSumExp($0, alongAxes: axes).sum() }
        let gComposed = back(gradient(at: other) { logSumExp($0, alongAxes: leading).sum() })
        expectClose(
          gFused.reshaped(to: [3, 4, 5]), gComposed, tolerance: 1e-15,
          "gradients, axes \(axes), magnitude \(magnitude)")
      }
    }
    // Second derivatives: the Hessian of log-sum-exp is diag(s) − s sᵀ.
    let row = Tensor([0.5, -1, 2, 0.25])
    let s = softmax(row).scalars
    let h = hessian(at: row) { logSumExp($0) }
    for i in 0..<4 {
      for j in 0..<4 {
        let exact = (i == j ? s[i] : 0) - s[i] * s[j]
        #expect(abs(h[i, j] - exact) <= 1e-16, "H[\(i), \(j)] = \(h[i, j]), not \(exact)")
      }
    }
  }

  @Test("Shift invariance, fused = composed and symmetric Hessians at magnitudes up to 1e300")
  func properties() {
    var generator = SeededGenerator(seed: 10)
    for magnitude in [1.0, 1e3, 1e17, 1e100, 1e300] {
      for _ in 0..<20 {
        let x = Tensor.random([2, 4], in: -3...3, using: &generator)
        let shift = Double.random(in: -magnitude...magnitude, using: &generator)
        // Round the shift to a multiple of the spacing at the shifted magnitude, so that
        // x + c is exact and the shifted problem is the same problem.
        let spacing = (magnitude * 8).ulp
        let c = (shift / spacing).rounded() * spacing
        let shifted = (x * spacing).map { $0.rounded() } / spacing + c
        let base = shifted - c
        // softmax and logSoftmax do not change; logSumExp changes by exactly c.
        #expect(softmax(shifted) == softmax(base), "softmax, shift \(c)")
        expectClose(
          logSoftmax(shifted), logSoftmax(base), tolerance: 4 * Double.ulpOfOne * 8,
          "logSoftmax, shift \(c)")
        let lse = logSumExp(shifted, alongAxes: -1)
        let expected = logSumExp(base, alongAxes: -1) + c
        #expect(
          zip(lse.scalars, expected.scalars).allSatisfy {
            ulpError($0, $1, scale: magnitude) <= 2
          }, "logSumExp, shift \(c): \(lse) vs \(expected)")
        // Fused and composed agree at every magnitude, in value and Jacobian.
        let row = shifted[0]
        expectClose(
          jacobian(at: row, of: softmax), jacobian(at: row, of: composedSoftmax),
          tolerance: 1e-15, "softmax Jacobians at shift \(c)")
        expectClose(
          jacobian(at: row, of: logSoftmax), jacobian(at: row, of: composedLogSoftmax),
          tolerance: 1e-15, "logSoftmax Jacobians at shift \(c)")
        // The Hessian of a scalar function is symmetric.
        let h = hessian(at: row) { logSumExp($0) + (sigmoid($0) * tanh($0)).sum() }
        expectClose(h, h.transposed(), tolerance: 1e-15, "Hessian symmetry at shift \(c)")
      }
    }
  }
}

/// A sum in double-double arithmetic (TwoSum on every addition): exact to about 2⁻¹⁰⁶
/// relative, a reference for sums, means and dot products of Doubles.
func exactSum(_ terms: [Double]) -> Double {
  var (high, low) = (0.0, 0.0)
  for term in terms {
    let sum = high + term
    let virtual = sum - high
    low += (high - (sum - virtual)) + (term - virtual)
    high = sum
  }
  return high + low
}

/// The products a·b with their rounding errors recovered by a fused multiply-add, as terms of
/// an exact dot product.
func exactProducts(_ a: [Double], _ b: [Double]) -> [Double] {
  zip(a, b).flatMap { x, y in
    let product = x * y
    return [product, (-product).addingProduct(x, y)]  // x·y − product, exactly
  }
}

@Suite("Accuracy audit: the exact and the summing operations")
struct ArithmeticAccuracyTests {
  @Test("+ − × ÷ and their derivatives are correctly rounded, as IEEE 754 requires")
  func arithmetic() {
    var generator = SeededGenerator(seed: 20)
    let magnitudes = [Double.leastNonzeroMagnitude, 1e-300, 1e-8, 1, 1e8, 1e300]
    for _ in 0..<200 {
      let a =
        Double.random(in: -1...1, using: &generator) * magnitudes.randomElement(using: &generator)!
      let b =
        Double.random(in: -1...1, using: &generator) * magnitudes.randomElement(using: &generator)!
      #expect((Variable(a) + Variable(b)).value.scalar! == a + b)
      #expect((Variable(a) - Variable(b)).value.scalar! == a - b)
      #expect((Variable(a) * Variable(b)).value.scalar! == a * b)
      #expect((Variable(a) / Variable(b)).value.scalar!.bitPattern == (a / b).bitPattern)
      let (ga, gb) = gradient(at: Tensor(a), Tensor(b)) { x, y in x * y }
      #expect(ga.scalar! == b && gb.scalar! == a)
      let (da, db) = gradient(at: Tensor(a), Tensor(b)) { x, y in x / y }
      #expect(da.scalar! == 1 / b)
      // −a/b², from the recorded quotient: two roundings, as is −(a/b)/b, so within 2 ulps.
      let exact = -(a / b) / b
      #expect(
        db.scalar! == exact || (db.scalar!.isNaN && exact.isNaN)
          || ulpError(db.scalar!, exact) <= 2, "∂(a/b)/∂b at \(a), \(b): \(db) vs \(exact)")
    }
  }

  @Test("sum, mean and matmul stay within the classical bound n·ε·Σ|terms|, and far below it")
  func summations() {
    var generator = SeededGenerator(seed: 21)
    var worstFraction = 0.0
    for count in [1, 7, 100, 10_000] {
      for scale in [1e-300, 1.0, 1e300 / Double(count)] {
        let x = Tensor.random([count], in: -scale...scale, using: &generator)
        let exact = exactSum(x.scalars)
        let bound = Double(count) * Double.ulpOfOne * x.scalars.map(\.magnitude).reduce(0, +)
        let error = abs(x.sum().scalar! - exact)
        #expect(error <= bound, "sum of \(count) at scale \(scale): \(error) > \(bound)")
        #expect(abs(x.mean().scalar! - exact / Double(count)) <= bound / Double(count) * 2)
        if bound > 0 { worstFraction = Swift.max(worstFraction, error / bound) }
        // The gradient of a sum is exactly ones, of a mean exactly 1/n.
        #expect(gradient(at: x) { $0.sum() } == .ones([count]))
        #expect(gradient(at: x) { $0.mean() }.scalars.allSatisfy { $0 == 1 / Double(count) })
      }
    }
    for (m, k, n) in [(1, 1, 1), (3, 7, 5), (17, 33, 9), (8, 257, 40)] {
      let a = Tensor.random([m, k], in: -1...1, using: &generator)
      let b = Tensor.random([k, n], in: -1...1, using: &generator)
      let c = matmul(a, b)
      for i in 0..<m {
        for j in 0..<n {
          let row = (0..<k).map { a[i, $0] }
          let column = (0..<k).map { b[$0, j] }
          let exact = exactSum(exactProducts(row, column))
          let bound =
            Double(k + 1) * Double.ulpOfOne
            * zip(row, column).map { ($0 * $1).magnitude }.reduce(0, +)
          #expect(abs(c[i, j] - exact) <= bound, "matmul [\(m), \(k)] × [\(k), \(n)] at \(i), \(j)")
        }
      }
    }
    print("accuracy | sum | worst error / (n ε Σ|x|) = \(worstFraction)")
  }
}
