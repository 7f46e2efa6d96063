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
