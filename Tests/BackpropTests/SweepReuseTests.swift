import Testing

@testable import Backprop

/// `gradient(at:of:)` sweeps a private tape once: a full sum passes its cotangent on as one
/// value for every position (a uniform cotangent) instead of a tensor of copies, and, when no
/// variable of the tape survives the call, each entry's VJP may write over the entry's own
/// value. Both must give the bits of the plain sweep, which `Tape.gradient(of:wrt:)` runs, for
/// every rule that takes them and every rule that must spread them first; and a value that
/// the caller kept, as a variable or as a tensor, must come through untouched.
@Suite("Uniform cotangents and reused forward buffers give the plain sweep's bits")
struct SweepReuseTests {
  static let count = LargeBuffer.threshold + 7

  static let formulas: [(String, @Sendable (Variable, Tensor) -> Variable)] = [
    ("sum(x)", { x, _ in x.sum() }),
    ("sum(exp(x))", { x, _ in exp(x).sum() }),
    ("sum(log(|x| + 0.5))", { x, _ in log(abs(x) + 0.5).sum() }),
    ("sum(x * x)", { x, _ in (x * x).sum() }),
    ("sum(x * t)", { x, t in (x * t).sum() }),
    ("sum(t / (|x| + 1))", { x, t in (Variable(t) / (abs(x) + 1)).sum() }),
    ("sum(x / t)", { x, t in (x / t).sum() }),
    ("sum(x − t)", { x, t in (x - t).sum() }),
    ("sum(t − x)", { x, t in (Variable(t) - x).sum() }),
    ("sum(x + t)", { x, t in (x + t).sum() }),
    ("sum(x + x)", { x, _ in (x + x).sum() }),
    ("sum(−x)", { x, _ in (-x).sum() }),
    ("sum(relu(x − 1))", { x, _ in relu(x - 1).sum() }),
    ("sum(sigmoid(x))", { x, _ in sigmoid(x).sum() }),
    ("sum(tanh(x))", { x, _ in tanh(x).sum() }),
    ("sum(sin(x))", { x, _ in sin(x).sum() }),
    ("sum(cos(x))", { x, _ in cos(x).sum() }),
    ("sum(sqrt(x² + 1))", { x, _ in sqrt(x * x + 1).sum() }),
    ("sum(max(x, t))", { x, t in max(x, t).sum() }),
    ("sum(pow(x, 3))", { x, _ in pow(x, 3).sum() }),
    ("meanSquaredError", { x, t in meanSquaredError(predicted: x, expected: t) }),
    ("sum(squaredDifference(t, x))", { x, t in squaredDifference(t, x).sum() }),
    ("sum(x.masked(by: t > 0))", { x, t in x.masked(by: t.map { $0 > 0 ? 1 : 0 }).sum() }),
    // Fan-in: two uniform cotangents into one entry, and a uniform one into an entry that
    // already has a tensor.
    ("sum(exp(x)) + sum(exp(x))", { x, _ in exp(x).sum() + exp(x).sum() }),
    ("sum(exp(x)) + sum(x)", { x, _ in exp(x).sum() + x.sum() }),
    (
      "sum(e) + sum(e * t)",
      { x, t in
        let e = exp(x)
        return e.sum() + (e * t).sum()
      }
    ),
    // Rules that read the cotangent as a tensor: spread first.
    ("sum(exp(x) * x)", { x, _ in (exp(x) * x).sum() }),
    ("sum(logSoftmax(x))", { x, _ in logSoftmax(x).sum() }),
    ("sum(reshape(x))", { x, _ in x.reshaped(to: [1, SweepReuseTests.count]).sum() }),
    ("sum(x[0..<1000])", { x, _ in x[0..<1000].sum() }),
    // A large slice, whose full sum passes a uniform cotangent, padded in one pass (once taken
    // for a pick of one scalar: a one-hot gradient).
    ("sum(x[7...])", { x, _ in x[7..<SweepReuseTests.count].sum() }),
    ("sum(x[0...])", { x, _ in x[0..<SweepReuseTests.count].sum() }),
    ("sum(x[7...]) + x[3]", { x, _ in x[7..<SweepReuseTests.count].sum() + x[3] }),
    ("sum(exp(x[7...]))", { x, _ in exp(x[7..<SweepReuseTests.count]).sum() }),
    (
      "sum(M[1..., 3...])",
      { x, _ in
        x[0..<262_144].reshaped(to: [512, 512]).slice(
          lowerBounds: [1, 3], upperBounds: [512, 512]
        )
        .sum()
      }
    ),
    // The library at large sizes, each a full sum of a large result (so a uniform cotangent
    // meets its rule) or a reduction: every one-pass rule and size-gated path against the plain
    // sweep.
    ("sum(abs(x))", { x, _ in abs(x).sum() }),
    ("sum(sign(x) * x)", { x, _ in (sign(x) * x).sum() }),
    ("sum(square(x))", { x, _ in square(x).sum() }),
    ("sum(reciprocal(x))", { x, _ in reciprocal(x).sum() }),
    ("sum(rsqrt(|x| + 1))", { x, _ in rsqrt(abs(x) + 1).sum() }),
    ("sum(tan(x))", { x, _ in tan(x).sum() }),
    ("sum(sinh(x)) + sum(cosh(x))", { x, _ in sinh(x).sum() + cosh(x).sum() }),
    ("sum(asin(x / 4)) + sum(acos(x / 4))", { x, _ in asin(x / 4).sum() + acos(x / 4).sum() }),
    ("sum(atan(x)) + sum(asinh(x))", { x, _ in atan(x).sum() + asinh(x).sum() }),
    (
      "sum(atanh(x / 4)) + sum(acosh(|x| + 1))",
      { x, _ in atanh(x / 4).sum() + acosh(abs(x) + 1).sum() }
    ),
    ("sum(log1p(|x|)) + sum(expm1(x))", { x, _ in log1p(abs(x)).sum() + expm1(x).sum() }),
    ("sum(erf(x)) + sum(erfc(x))", { x, _ in erf(x).sum() + erfc(x).sum() }),
    ("sum(gelu(x))", { x, _ in gelu(x).sum() }),
    ("sum(swish(x))", { x, _ in swish(x).sum() }),
    ("sum(softplus(x)) + sum(logSigmoid(x))", { x, _ in softplus(x).sum() + logSigmoid(x).sum() }),
    ("sum(elu(x)) + sum(leakyRelu(x))", { x, _ in elu(x).sum() + leakyRelu(x).sum() }),
    ("sum(clamp(x, −1, 1))", { x, _ in clamp(x, min: -1, max: 1).sum() }),
    ("sum(min(x, t)) + sum(min(x, 0.5))", { x, t in min(x, t).sum() + min(x, 0.5).sum() }),
    ("sum(max(1, x))", { x, _ in max(1, x).sum() }),
    ("sum(pow(|x|, 2.5)) + sum(pow(2, x))", { x, _ in pow(abs(x), 2.5).sum() + pow(2, x).sum() }),
    ("sum(pow(|x| + 1, t))", { x, t in pow(abs(x) + 1, Variable(t)).sum() }),
    (
      "sum(hypot(x, t)) + sum(hypot(x, 3))",
      { x, t in hypot(x, Variable(t)).sum() + hypot(x, 3).sum() }
    ),
    ("huberLoss", { x, t in huberLoss(predicted: x, expected: Variable(t), delta: 0.5) }),
    (
      "binaryCrossEntropy",
      { x, t in binaryCrossEntropy(logits: x, labels: t.map { $0 > 0 ? 1 : 0 }) }
    ),
    ("variance(x) + standardDeviation(x)", { x, _ in x.variance() + x.standardDeviation() }),
    ("mean(x) + max(x) + min(x)", { x, _ in x.mean() + x.max() + x.min() }),
    ("logSumExp(x)", { x, _ in logSumExp(x) }),
    ("sum(softmax(x) * t)", { x, t in (softmax(x) * t).sum() }),
    (
      "rows: max, min, mean, logSumExp, softmax",
      { x, t in
        let m = x[0..<262_144].reshaped(to: [512, 512])
        let w = t[0..<262_144].reshaped(to: [512, 512])
        return m.max(alongAxes: 1).sum() + m.min(alongAxes: 0).sum() + m.mean(alongAxes: 1).sum()
          + logSumExp(m, alongAxes: 1).sum() + (softmax(m) * w).sum()
          + (composedSoftmax(m) * w).sum()
      }
    ),
    (
      "crossEntropy of rows",
      { x, _ in
        let m = x[0..<262_144].reshaped(to: [512, 512])
        return crossEntropy(logits: m, labels: (0..<512).map { $0 * 7 % 512 })
          + composedCrossEntropy(logits: m, labels: (0..<512).map { $0 * 3 % 512 })
      }
    ),
    (
      "transpose, broadcasts, matmul",
      { x, t in
        let m = x[0..<262_144].reshaped(to: [512, 512])
        let row = t[0..<512]
        let column = Variable(t[512..<1024].value.reshaped(to: [512, 1]))
        return (m.transposed() * t[0..<262_144].reshaped(to: [512, 512])).sum()
          + (m * row).sum() + (m / (column * column + 1)).sum()
          + matmul(m, column).sum()
      }
    ),
    (
      "gather, concatenate, stack",
      { x, _ in
        let m = x[0..<262_144].reshaped(to: [512, 512])
        return m.gathering(atIndices: [3, 3, 511, 0]).sum()
          + (concatenate([m, m], alongAxis: 1) * 2).sum() + stack([m, m * m]).sum()
      }
    ),
    // Products along either axis, and of a large vector's tail.
    (
      "sum(prod(M, axis 1)) + sum(prod(M, axis 0))",
      { x, _ in
        let m = (x[0..<262_144] * 0.01 + 1).reshaped(to: [512, 512])
        return m.prod(alongAxes: 1).sum() + m.prod(alongAxes: 0).sum()
      }
    ),
    ("3 · sum(x * x)", { x, _ in 3 * (x * x).sum() }),
    // A rank-0 operand against the tensor, either side: one pass, or none for + and −.
    ("sum(2 * x)", { x, _ in (2 * x).sum() }),
    ("sum(x * −0)", { x, _ in (x * -0.0).sum() }),
    ("sum(x + 1)", { x, _ in (x + 1).sum() }),
    ("sum(1 − x)", { x, _ in (1 - x).sum() }),
    ("sum(x / 3)", { x, _ in (x / 3).sum() }),
    ("sum(3 / x)", { x, _ in (3 / x).sum() }),
    ("sum((3 / x) * t)", { x, t in ((3 / x) * t).sum() }),
    ("sum((x * ∞) * t)", { x, t in ((x * .infinity) * t).sum() }),
    ("sum(exp(0.5 * x − 2))", { x, _ in exp(0.5 * x - 2).sum() }),
    // A constant row or column against a matrix, either side.
    (
      "sum(M + row − column)",
      { x, t in
        let m = x[0..<262_144].reshaped(to: [512, 512])
        let row = t[0..<512]
        let column = t[512..<1024].reshaped(to: [512, 1])
        return ((m + row) - column).sum() + (row.value - m).sum()
      }
    ),
    // A sum's seed of exactly 1 hands exp and sigmoid their output or σ′ with no pass; any other
    // seed multiplies (−1, 1 + ε, −0, NaN), and a sum of a sum passes 1 on twice.
    ("−sum(exp(x))", { x, _ in -exp(x).sum() }),
    ("(1 + ε) · sum(sigmoid(x))", { x, _ in (1 + 0x1p-52) * sigmoid(x).sum() }),
    ("−0 · sum(exp(x))", { x, _ in -0.0 * exp(x).sum() }),
    ("NaN · sum(sigmoid(x))", { x, _ in .nan * sigmoid(x).sum() }),
    ("sum(sum(exp(x)))", { x, _ in exp(x).sum().sum() }),
    // Picks: one-hot cotangents, read by log-softmax as they are and written out elsewhere.
    ("logSoftmax(x)[5]", { x, _ in logSoftmax(x)[5] }),
    ("logSoftmax(x)[last]", { x, _ in logSoftmax(x)[SweepReuseTests.count - 1] }),
    ("logSoftmax(x)[0] · −0", { x, _ in -0.0 * logSoftmax(x)[0] }),
    ("logSoftmax(x)[3] · ∞", { x, _ in .infinity * logSoftmax(x)[3] }),
    ("logSoftmax(x)[3] · NaN", { x, _ in .nan * logSoftmax(x)[3] }),
    ("logSoftmax(x)[707]: the 700", { x, _ in logSoftmax(x)[707] }),
    (
      "l[3] + l[7], one l",
      { x, _ in
        let l = logSoftmax(x)
        return l[3] + l[7]
      }
    ),
    (
      "l[3] + l[3], one l",
      { x, _ in
        let l = logSoftmax(x)
        return l[3] + l[3]
      }
    ),
    (
      "l[3] + sum(l)",
      { x, _ in
        let l = logSoftmax(x)
        return l[3] + l.sum()
      }
    ),
    (
      "sum(l) + l[3]",
      { x, _ in
        let l = logSoftmax(x)
        return l.sum() + l[3]
      }
    ),
    ("x[3]", { x, _ in x[3] }),
    ("x[3] + sum(x)", { x, _ in x[3] + x.sum() }),
    ("sum(x) + x[3]", { x, _ in x.sum() + x[3] }),
    ("x[3] · x[3]", { x, _ in x[3] * x[3] }),
    ("exp(x)[3]", { x, _ in exp(x)[3] }),
    ("sum(exp(x)[0..<1])", { x, _ in exp(x)[0..<1].sum() }),
    (
      "logSoftmax of rows, [2, 7]",
      { x, _ in
        logSoftmax(x[0..<262_144].reshaped(to: [4, 65_536]))
          .slice(lowerBounds: [2, 7], upperBounds: [3, 8]).sum()
      }
    ),
    (
      "logSoftmax of rows, [0, 0] and [3, 65 535]",
      { x, _ in
        let l = logSoftmax(x[0..<262_144].reshaped(to: [4, 65_536]))
        return l[0, 0] + 2 * l[3, 65_535]
      }
    ),
  ]

  static func same(_ a: Tensor, _ b: Tensor) -> Bool {
    a.shape == b.shape
      && zip(a.scalars, b.scalars).allSatisfy {
        $0.bitPattern == $1.bitPattern || $0.isNaN && $1.isNaN
      }
  }

  @Test func gradientsAreThePlainSweepsToTheBit() {
    var generator = SeededGenerator(seed: 91)
    var xs = Tensor.random([Self.count], in: -3...3, using: &generator).scalars
    for (index, edge) in [0, -0.0, 0x1p-1030, 40, -40, 700, -745].enumerated() {
      xs[index * 101] = edge
    }
    let x = Tensor(xs)
    let t = Tensor.random([Self.count], in: -2...2, using: &generator)
    for (name, f) in Self.formulas {
      let ours = valueWithGradient(at: x) { f($0, t) }
      let tape = Tape()
      let v = tape.variable(x)
      let y = f(v, t)
      let plain = tape.gradient(of: y, wrt: v)
      #expect(Self.same(ours.gradient, plain), "\(name)")
      #expect(Self.same(ours.value, y.value), "\(name): value")
    }
  }

  /// Formulas of two inputs, for the pair's and the many-input paths, which sweep a private
  /// tape once as well.
  static let pairs: [(String, @Sendable (Variable, Variable) -> Variable)] = [
    ("sum(exp(a) * b) + sum(a − b)", { a, b in (exp(a) * b).sum() + (a - b).sum() }),
    ("sum(a * b)", { a, b in (a * b).sum() }),
    ("sum(a / b)", { a, b in (a / b).sum() }),
    ("sum(max(a, b))", { a, b in max(a, b).sum() }),
    ("sum(max(b, a))", { a, b in max(b, a).sum() }),
    ("meanSquaredError", { a, b in meanSquaredError(predicted: a, expected: b) }),
    ("sum(squaredDifference(a, b))", { a, b in squaredDifference(a, b).sum() }),
    ("sum(tanh(a) + sigmoid(b))", { a, b in (tanh(a) + sigmoid(b)).sum() }),
    ("sum(exp(a)) · sum(b)", { a, b in exp(a).sum() * b.sum() }),
    ("sum(a) only", { a, _ in a.sum() }),
    ("sum(relu(a − b))", { a, b in relu(a - b).sum() }),
    ("logSumExp(a + b)", { a, b in logSumExp(a + b) }),
    ("sum(a − b)", { a, b in (a - b).sum() }),
    ("sum(a * b * a)", { a, b in (a * b * a).sum() }),
    ("sum(b / a) + sum(max(a, b))", { a, b in (b / a).sum() + max(a, b).sum() }),
  ]

  /// Two inputs and many: each gradient is the plain sweep's, bit for bit.
  @Test func twoAndManyInputsGiveThePlainSweepsBits() {
    var generator = SeededGenerator(seed: 92)
    var scalars = Tensor.random([Self.count], in: -2...2, using: &generator).scalars
    // Ties for the maximum, edges for the rest.
    for (index, edge) in [0, -0.0, 0x1p-1030, 40, -40, 700, -745].enumerated() {
      scalars[index * 101] = edge
    }
    let a = Tensor(scalars)
    var other = Tensor.random([Self.count], in: -2...2, using: &generator).scalars
    for index in stride(from: 0, to: 700, by: 101) { other[index] = scalars[index] }
    let b = Tensor(other)
    for (name, f) in Self.pairs {
      let tape = Tape()
      let (u, v) = (tape.variable(a), tape.variable(b))
      let y = f(u, v)
      let plain = tape.gradient(of: y, wrt: [u, v])
      let pair = valueWithGradient(at: a, b, of: f)
      #expect(Self.same(pair.value, y.value), "\(name): value")
      #expect(Self.same(pair.gradient.0, plain[0]), "\(name): first gradient")
      #expect(Self.same(pair.gradient.1, plain[1]), "\(name): second gradient")
      let many = valueWithGradient(at: [a, b]) { f($0[0], $0[1]) }
      #expect(Self.same(many.value, y.value), "\(name): value, many inputs")
      #expect(Self.same(many.gradient[0], plain[0]), "\(name): first gradient, many inputs")
      #expect(Self.same(many.gradient[1], plain[1]), "\(name): second gradient, many inputs")
    }
    // One tensor passed twice is two inputs, each with its own gradient.
    let twice = gradient(at: a, a) { u, v in (exp(u) * v).sum() }
    let e = exp(a)
    #expect(Self.same(twice.0, e * a) && Self.same(twice.1, e))
  }

  /// A full sum of a product, a quotient, a difference or a maximum of two inputs gives both
  /// its operands' gradients from one uniform cotangent: the definitions, to the bit, where the
  /// two might share a buffer by mistake (the second's is computed first, the first's may
  /// take the output's buffer).
  @Test func bothOperandsOfAUniformCotangentHaveTheirDefinitions() {
    var generator = SeededGenerator(seed: 93)
    let a = Tensor.random([Self.count], in: 0.5...2, using: &generator)
    var other = Tensor.random([Self.count], in: 0.5...2, using: &generator).scalars
    for index in stride(from: 0, to: 700, by: 7) { other[index] = a.scalars[index] }
    let b = Tensor(other)
    let product = gradient(at: a, b) { u, v in (u * v).sum() }
    #expect(Self.same(product.0, b) && Self.same(product.1, a))
    let difference = gradient(at: a, b) { u, v in (u - v).sum() }
    #expect(Self.same(difference.0, Tensor(repeating: 1, shape: a.shape)))
    #expect(Self.same(difference.1, Tensor(repeating: -1, shape: a.shape)))
    let quotient = gradient(at: a, b) { u, v in (u / v).sum() }
    #expect(Self.same(quotient.0, 1 / b))
    #expect(Self.same(quotient.1, -((a / b) / b)))
    let maximum = gradient(at: a, b) { u, v in max(u, v).sum() }
    let (left, right) = (a.scalars, b.scalars)
    let share = zip(left, right).map { $0 > $1 ? 1.0 : $0 == $1 ? 0.5 : 0 }
    #expect(Self.same(maximum.0, Tensor(share)))
    #expect(Self.same(maximum.1, Tensor(share.map { 1 - $0 })))
    // x · x · x: 3x² to within two roundings of each of its three terms.
    let cube = gradient(at: a) { ($0 * $0 * $0).sum() }
    let worst = zip(cube.scalars, left).map { abs($0 - 3 * $1 * $1) / (3 * $1 * $1) }.max()!
    #expect(worst <= 4 * Double.ulpOfOne)
  }

  /// With two inputs, too, a value the caller kept is not written over.
  @Test func twoInputsKeepWhatTheCallerKept() {
    var generator = SeededGenerator(seed: 94)
    let (a, b) = (
      Tensor.random([Self.count], in: -2...2, using: &generator),
      Tensor.random([Self.count], in: -2...2, using: &generator)
    )
    let expected = exp(a)
    var kept: Variable?
    let g = gradient(at: a, b) { u, v in
      let e = exp(u)
      kept = e
      return (e + v).sum()
    }
    #expect(kept!.value == expected && g.0 == expected && g.1 == .ones(b.shape))
    var keptTensors: [Tensor] = []
    let h = gradient(at: [a, b]) { p in
      let e = exp(p[0])
      keptTensors.append(e.value)
      return (e * p[1]).sum()
    }
    #expect(keptTensors[0] == expected && Self.same(h[0], expected * b) && h[1] == expected)
  }

  /// A value the caller kept is not written over: a variable that outlives the call keeps the
  /// tape, which then keeps its values; a tensor taken out of a variable shares the buffer,
  /// which the VJP then sees is not its alone.
  @Test func valuesTheCallerKeptAreUntouched() {
    var generator = SeededGenerator(seed: 93)
    let x = Tensor.random([Self.count], in: -2...2, using: &generator)
    let expected = exp(x)
    var keptVariable: Variable?
    let g1 = gradient(at: x) { v in
      let e = exp(v)
      keptVariable = e
      return e.sum()
    }
    #expect(keptVariable!.value == expected && g1 == expected)
    var keptTensor: Tensor?
    let g2 = gradient(at: x) { v in
      let e = exp(v)
      keptTensor = e.value
      return e.sum()
    }
    #expect(keptTensor! == expected && g2 == expected)
    // The function's own value used again as a constant.
    let g3 = gradient(at: x) { v in
      let e = exp(v)
      return (e * Variable(e.value)).sum()
    }
    #expect(Self.same(g3, expected * expected))
  }
}

/// Elementwise functions at a large size (uniform cotangents, disposable values, kernels over
/// long runs) and on a short prefix of the same input, each gradient computed alone: the
/// prefix's scalars must agree to the bit, so no size-gated path changes a number.
@Suite("Elementwise gradients do not depend on the tensor's size")
struct SizeIndependenceTests {
  static let functions: [(String, @Sendable (Variable) -> Variable)] = [
    ("exp", { exp($0) }), ("log|x|", { log(abs($0)) }), ("sqrt|x|", { sqrt(abs($0)) }),
    ("tanh", { tanh($0) }), ("sigmoid", { sigmoid($0) }), ("sin", { sin($0) }),
    ("cos", { cos($0) }), ("tan", { tan($0) }), ("erf", { erf($0) }), ("erfc", { erfc($0) }),
    ("gelu", { gelu($0) }), ("swish", { swish($0) }), ("softplus", { softplus($0) }),
    ("logSigmoid", { logSigmoid($0) }), ("log1p|x|", { log1p(abs($0)) }),
    ("expm1", { expm1($0) }), ("elu", { elu($0) }), ("leakyRelu", { leakyRelu($0) }),
    ("relu", { relu($0) }), ("abs", { abs($0) }), ("pow 3", { pow($0, 3) }),
    ("pow 2.5", { pow(abs($0), 2.5) }), ("pow 0.3", { pow(abs($0), 0.3) }),
    ("clamp", { clamp($0, min: -1, max: 1) }), ("max 0.5", { max($0, 0.5) }),
    ("min 0.5", { min($0, 0.5) }), ("x * x", { $0 * $0 }), ("2 / x", { 2 / $0 }),
    ("atan", { atan($0) }), ("asinh", { asinh($0) }), ("sinh", { sinh($0) }),
  ]

  @Test("a prefix's gradient is the large tensor's, bit for bit")
  func prefixAgrees() {
    var generator = SeededGenerator(seed: 95)
    var scalars = Tensor.random([SweepReuseTests.count], in: -4...4, using: &generator).scalars
    let edges: [Double] = [
      0, -0.0, 0x1p-1074, -0x1p-1030, 1e-300, 40, -40, 700, -745, 750, 1e17, -1e300, .infinity,
      -.infinity, .nan, 1, -1, 0.5,
    ]
    for (index, edge) in edges.enumerated() { scalars[index * 37] = edge }
    let x = Tensor(scalars)
    let prefix = x.slice(lowerBounds: [0], upperBounds: [4099])
    let weights = Tensor((0..<SweepReuseTests.count).map { Double($0 % 5) - 2 })
    let prefixWeights = weights.slice(lowerBounds: [0], upperBounds: [4099])
    for (name, f) in Self.functions {
      let large = gradient(at: x) { f($0).sum() }.slice(lowerBounds: [0], upperBounds: [4099])
      let small = gradient(at: prefix) { f($0).sum() }
      #expect(SweepReuseTests.same(large, small), "\(name)")
      // With a cotangent that is not uniform: the same weights at both sizes.
      let weightedLarge = gradient(at: x) { (f($0) * weights).sum() }
        .slice(lowerBounds: [0], upperBounds: [4099])
      let weightedSmall = gradient(at: prefix) { (f($0) * prefixWeights).sum() }
      #expect(SweepReuseTests.same(weightedLarge, weightedSmall), "\(name), weighted")
    }
  }
}
