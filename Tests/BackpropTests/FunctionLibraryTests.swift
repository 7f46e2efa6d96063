import Foundation
import Testing

@testable import Backprop

// The functions people reach for: each checked by its own conventions, against central
// differences (first derivatives) and against differences of the gradient (second), and where
// it is composed, against the formula it stands for.

/// Expects f's Hessian at x (exact, reverse over reverse) to match central differences of its
/// gradient, and to be symmetric.
func expectHessianMatchesDifferences(
  at x: Tensor, tolerance: Double = 1e-6, _ comment: Comment? = nil,
  sourceLocation: SourceLocation = #_sourceLocation, of f: @escaping (Variable) -> Variable
) {
  let exact = hessian(at: x, of: f)
  let numerical = numericalJacobian(at: x) { x in Variable(gradient(at: x.value, of: f)) }
  expectClose(exact, numerical, tolerance: tolerance, comment, sourceLocation: sourceLocation)
  let n = x.scalarCount
  let square = exact.reshaped(to: [n, n])
  expectClose(
    square, square.transposed(), tolerance: 1e-12, comment, sourceLocation: sourceLocation)
}

@Suite("The function library: elementwise, reductions, shapes, losses")
struct FunctionLibraryTests {
  // Computed, not stored: a static holding tensors is never freed, and LeakSanitizer (CI runs
  // the suite under it) reports its buffers.
  static var unary: [(String, @Sendable (Variable) -> Variable, Tensor)] {
    [
      ("sin", { sin($0) }, [0.3, -1.2, 2.5]), ("cos", { cos($0) }, [0.3, -1.2, 2.5]),
      ("tan", { tan($0) }, [0.3, -1.2, 0.9]), ("asin", { asin($0) }, [0.3, -0.7, 0.1]),
      ("acos", { acos($0) }, [0.3, -0.7, 0.1]), ("atan", { atan($0) }, [0.3, -3, 12]),
      ("sinh", { sinh($0) }, [0.3, -1.2, 2.5]), ("cosh", { cosh($0) }, [0.3, -1.2, 2.5]),
      ("asinh", { asinh($0) }, [0.3, -3, 12]), ("acosh", { acosh($0) }, [1.3, 3, 12]),
      ("atanh", { atanh($0) }, [0.3, -0.7, 0.1]), ("exp2", { exp2($0) }, [0.3, -1.2, 2.5]),
      ("expm1", { expm1($0) }, [0.3, -1.2, 1e-5]), ("log2", { log2($0) }, [0.3, 1.2, 25]),
      ("log10", { log10($0) }, [0.3, 1.2, 25]), ("log1p", { log1p($0) }, [0.3, -0.5, 1e-5]),
      ("abs", { abs($0) }, [0.3, -1.2, 2.5]), ("sign", { sign($0) }, [0.3, -1.2, 2.5]),
      ("square", { square($0) }, [0.3, -1.2, 2.5]),
      ("reciprocal", { reciprocal($0) }, [0.3, -1.2, 2.5]),
      ("rsqrt", { rsqrt($0) }, [0.3, 1.2, 2.5]), ("erf", { erf($0) }, [0.3, -1.2, 2.5]),
      ("erfc", { erfc($0) }, [0.3, -1.2, 2.5]), ("softplus", { softplus($0) }, [0.3, -12, 25]),
      ("logSigmoid", { logSigmoid($0) }, [0.3, -12, 25]), ("gelu", { gelu($0) }, [0.3, -1.2, 2.5]),
      ("swish", { swish($0) }, [0.3, -1.2, 2.5]),
      ("leakyRelu", { leakyRelu($0) }, [0.3, -1.2, 2.5]),
      ("elu", { elu($0) }, [0.3, -1.2, 2.5]),
    ]
  }

  @Test("First derivatives against central differences, second against differences of the gradient")
  func derivatives() {
    for (name, f, x) in Self.unary {
      expectGradientMatchesFiniteDifferences(at: x, "\(name)") { f($0).sum() }
      expectHessianMatchesDifferences(at: x, "\(name)") { (f($0) * Tensor([1, -2, 0.5])).sum() }
    }
    let a: Tensor = [0.7, 2.5, 1.3]
    let b: Tensor = [1.5, -0.5, 0.25]
    let binary: [(String, (Variable, Variable) -> Variable)] = [
      ("pow", { pow($0, $1) }), ("atan2", { atan2($0, $1) }), ("hypot", { hypot($0, $1) }),
      ("min", { min($0, $1) }), ("select", { select([1, 0, 1], $0, $1) }),
      ("squaredDifference", { squaredDifference($0, $1) }),
    ]
    for (name, f) in binary {
      expectGradientMatchesFiniteDifferences(at: a, "\(name) in a") { f($0, Variable(b)).sum() }
      expectGradientMatchesFiniteDifferences(at: b, "\(name) in b") { f(Variable(a), $0).sum() }
      expectHessianMatchesDifferences(at: a, "\(name) in a") { f($0, Variable(b) * $0).sum() }
    }
  }

  @Test("Values agree with the C library and with the formulas they compose")
  func values() {
    let x: Tensor = [-2.5, -0.3, 0.4, 1.7]
    // sin is the vectorized kernel, within 1 ulp of the C library's correctly rounded one.
    for (ours, libm) in zip(sin(x).scalars, x.scalars.map(Foundation.sin)) {
      #expect(abs(ours - libm) <= libm.ulp)
    }
    // log1p and expm1 are vectorized kernels too, within 1 ulp of the C library's.
    for (ours, libm) in zip(log1p(x + 3).scalars, (x + 3).scalars.map(Foundation.log1p)) {
      #expect(abs(ours - libm) <= libm.ulp)
    }
    expectClose(
      gelu(Variable(x)).value, x.map { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) },
      tolerance: 1e-15)
    expectClose(
      swish(Variable(x)).value, x.map { $0 / (1 + Foundation.exp(-$0)) }, tolerance: 1e-15)
    #expect(leakyRelu(Variable(x), alpha: 0.1).value == x.map { $0 > 0 ? $0 : 0.1 * $0 })
    for (ours, libm) in zip(
      elu(Variable(x)).value.scalars, x.scalars.map { $0 > 0 ? $0 : Foundation.expm1($0) })
    {
      #expect(abs(ours - libm) <= libm.ulp)
    }
    #expect(softplus(Tensor([-800, 800, 0])) == [0, 800, Foundation.log(2)])
    #expect(logSigmoid(Tensor([-800, 800])) == [-800, 0])
    #expect(clamp(Variable(x), min: -1, max: 1).value == [-1, -0.3, 0.4, 1])
    #expect(min(Variable(x), Variable(Tensor(0))).value == [-2.5, -0.3, 0, 0])
  }

  @Test("Kinks and edges: abs, sign, clamp, min, select, elu, NaN")
  func kinks() {
    #expect(gradient(at: [0, -2, 3]) { abs($0).sum() } == [0, -1, 1])
    #expect(gradient(at: [0, -2, 3]) { sign($0).sum() } == [0, 0, 0])
    // ½ at a bound, like a tie; 1 inside, 0 outside.
    #expect(gradient(at: [-1, 0, 1, 2]) { clamp($0, min: -1, max: 1).sum() } == [0.5, 1, 0.5, 0])
    let (ga, gb) = gradient(at: [2, 3], [2, 1]) { min($0, $1).sum() }
    #expect(ga == [0.5, 0] && gb == [0.5, 1])
    // No 0 · ∞ in select's own backward pass: an excluded operand that is infinite gets a
    // zero gradient, not NaN.
    let (ga2, gb2) = gradient(at: [.infinity, 2], [5, 6]) { a, b in select([0, 1], a, b).sum() }
    #expect(ga2 == [0, 1] && gb2 == [1, 0])
    // A branch whose own derivative is infinite where it is excluded (log at 0) still meets
    // 0 · ∞ in its own VJP, as in PyTorch and JAX; selecting its input too avoids it.
    let naive = gradient(at: [0, 2]) { x in select([0, 1], log(x), x).sum() }
    #expect(naive.scalars[0].isNaN)
    let (value, g) = valueWithGradient(at: [0, 2]) { x in
      select([0, 1], log(select([0, 1], x, Variable(1))), x).sum()
    }
    #expect(value == Tensor(Foundation.log(2.0)))
    #expect(g == [1, 0.5])
    #expect(elu(Variable([1000])).value == [1000])
    #expect(gradient(at: [1000, -1]) { elu($0).sum() } == [1, Foundation.exp(-1)])
    #expect(gradient(at: [0]) { leakyRelu($0, alpha: 0.2).sum() } == [0.2])
    // leakyRelu at the edges, small and past the size that writes in place, with a weighted
    // cotangent: x or α x, and ȳ or α ȳ, to the bit; α = 0 is relu (0 at −∞, not NaN).
    let edges: [Double] = [
      -.infinity, -1e300, -1, -0.0, 0, .leastNonzeroMagnitude, 1, 1e300, .infinity, .nan,
    ]
    for count in [edges.count, 262_147] {  // past LargeBuffer.threshold
      let x = Tensor((0..<count).map { edges[$0 % edges.count] })
      let w = Tensor((0..<count).map { [1, -2, .infinity, 0.5][$0 % 4] })
      for alpha in [0.01, 0.2, 0, 3] {
        func slope(_ x: Double) -> Double { x > 0 ? 1 : x.isNaN ? .nan : alpha }
        let (y, g) = valueWithGradient(at: x) { (leakyRelu($0, alpha: alpha) * w).sum() }
        let values = leakyRelu(Variable(x), alpha: alpha).value.scalars
        for (index, x) in x.scalars.enumerated().prefix(edges.count * 2) {
          let value = x > 0 ? x : x.isNaN ? .nan : alpha == 0 ? 0 : alpha * x
          let derivative = alpha == 0 && !(x > 0) && !x.isNaN ? 0 : w.scalars[index] * slope(x)
          #expect(
            values[index].bitPattern == value.bitPattern || value.isNaN && values[index].isNaN,
            "leakyRelu(\(x), α \(alpha)) = \(values[index])")
          #expect(
            g.scalars[index].bitPattern == derivative.bitPattern
              || derivative.isNaN && g.scalars[index].isNaN,
            "leakyRelu′(\(x), α \(alpha)) · \(w.scalars[index]) = \(g.scalars[index])")
        }
        #expect(y.scalar!.isNaN)
      }
    }
    for f in [{ abs($0) }, { sin($0) }, { softplus($0) }, { gelu($0) }] as [(Variable) -> Variable]
    {
      let (y, dy) = valueWithGradient(at: [.nan]) { f($0).sum() }
      #expect(y.scalar!.isNaN && dy.scalar!.isNaN)
    }
  }

  @Test("prod differentiates correctly through zeros; variance divides by n")
  func reductions() {
    #expect(gradient(at: [2, 3, 4]) { $0.prod() } == [12, 8, 6])
    #expect(gradient(at: [2, 0, 4]) { $0.prod() } == [0, 8, 0])
    #expect(gradient(at: [0, 0, 4]) { $0.prod() } == [0, 0, 0])
    #expect(Variable([1, 2, 3, 4, 5]).prod().value == Tensor(120))
    let m = Tensor([[1, 2, 3], [4, 5, 6]])
    #expect(Variable(m).prod(alongAxes: 1).value == Tensor([[6], [120]]))
    #expect(Variable(m).prod(alongAxes: 0).value == Tensor([[4, 10, 18]]))
    expectHessianMatchesDifferences(at: [1.5, 0, -2, 0.5]) { $0.prod() }
    #expect(Variable(m).min().value == Tensor(1))
    #expect(Variable(m).min(alongAxes: 1).value == Tensor([[1], [4]]))
    #expect(Variable([1, 2, 3, 4]).variance().value == Tensor(1.25))
    #expect(Variable([1, 2, 3, 4]).standardDeviation().value == Tensor(1.25.squareRoot()))
    expectClose(
      Variable(m).variance(alongAxes: 1).value, Tensor([[2.0 / 3], [2.0 / 3]]), tolerance: 1e-15)
    expectGradientMatchesFiniteDifferences(at: [0.5, -1, 2, 3]) { $0.standardDeviation() }
    #expect(m.argmax(alongAxis: 1) == Tensor([[2], [2]]))
    #expect(Tensor([[3, 1, 3], [0, -1, -1]]).argmin(alongAxis: 1) == Tensor([[1], [1]]))
    #expect(Tensor([1, .nan, 5]).argmax(alongAxis: 0) == Tensor([1]))
  }

  @Test("Slicing, gathering, concatenating and stacking, with their gradients")
  func shapes() {
    let m = Tensor(shape: [3, 4], scalars: (0..<12).map(Double.init))
    #expect(Variable(m)[1..<3].value == m[1..<3])
    #expect(m[1..<3] == Tensor([[4, 5, 6, 7], [8, 9, 10, 11]]))
    #expect(m.slice(lowerBounds: [0, 1], upperBounds: [2, 3]) == Tensor([[1, 2], [5, 6]]))
    #expect(
      gradient(at: m) { $0.slice(lowerBounds: [0, 1], upperBounds: [2, 3]).sum() }
        == Tensor([[0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]]))
    // Repeated indices add in the backward pass, as an embedding lookup's must.
    #expect(
      m.gathering(atIndices: [2, 0, 2])
        == Tensor([[8, 9, 10, 11], [0, 1, 2, 3], [8, 9, 10, 11]]))
    #expect(gradient(at: m) { $0.gathering(atIndices: [2, 0, 2]).sum() }[2] == [2, 2, 2, 2])
    #expect(
      gradient(at: m) { $0.gathering(atIndices: [3, 3], alongAxis: 1).sum() }[0] == [0, 0, 0, 2])
    let joined = concatenate([Variable(m[0..<1]), Variable(m[1..<3])])
    #expect(joined.value == m)
    #expect(concatenate([m, m], alongAxis: 1).shape == [3, 8])
    #expect(stack([Tensor([1, 2]), Tensor([3, 4])], alongAxis: 1) == Tensor([[1, 3], [2, 4]]))
    // Tensors are joined by copying runs: the definition along each axis of a rank-3 shape,
    // with an empty piece and −0 kept (pads and a sum, the composition this replaced, gave
    // +0), and the recorded primitive's values.
    let cube = Tensor(shape: [2, 3, 4], scalars: (0..<24).map { $0 == 5 ? -0.0 : Double($0) })
    for axis in 0..<3 {
      var pieceShape = cube.shape
      pieceShape[axis] = 2
      let piece = Tensor(
        shape: pieceShape, scalars: (0..<(pieceShape.reduce(1, *))).map { -Double($0) })
      var emptyShape = cube.shape
      emptyShape[axis] = 0
      let empty = Tensor(shape: emptyShape, scalars: [])
      let joined = concatenate([cube, empty, piece], alongAxis: axis)
      var shape = cube.shape
      shape[axis] += 2
      #expect(joined.shape == shape)
      var mismatches = 0
      for i in 0..<shape[0] {
        for j in 0..<shape[1] {
          for k in 0..<shape[2] {
            let index = [i, j, k]
            let inCube = index[axis] < cube.shape[axis]
            var local = index
            if !inCube { local[axis] -= cube.shape[axis] }
            let expected =
              inCube ? cube[local[0], local[1], local[2]] : piece[local[0], local[1], local[2]]
            if joined[i, j, k].bitPattern != expected.bitPattern { mismatches += 1 }
          }
        }
      }
      #expect(mismatches == 0, "axis \(axis)")
      #expect(joined == concatenate([Variable(cube), Variable(piece)], alongAxis: axis).value)
    }
    #expect(concatenate([Tensor([-0.0])]).scalars[0].sign == .minus)
    expectGradientMatchesFiniteDifferences(at: [1, 2, 3]) { x in
      (concatenate([x, x * x], alongAxis: 0) * Tensor([1, 2, 3, 4, 5, 6])).sum()
    }
    expectHessianMatchesDifferences(at: [1, 2, 3]) { x in
      (stack([x, x * x]).gathering(atIndices: [1, 1]) * x).sum() + x[1..<3].prod()
    }
    #expect(Variable(m).expandingShape(at: 0, 3).shape == [1, 3, 4, 1])
    #expect(Variable(Tensor(shape: [1, 3, 1], scalars: [1, 2, 3])).squeezingShape().shape == [3])
    #expect(
      Variable(Tensor(shape: [1, 3, 1], scalars: [1, 2, 3])).squeezingShape(at: 0).shape == [3, 1])
    #expect(Variable(m).flattened().shape == [12])
    #expect(Variable(m)[1, 2].value == Tensor(6))
  }

  @Test("matmul of vectors, matrices and batches matches the definition")
  func matrixProducts() {
    var generator = SeededGenerator(seed: 12)
    let a = Tensor.random([3, 4], in: -1...1, using: &generator)
    let v = Tensor.random([4], in: -1...1, using: &generator)
    let w = Tensor.random([3], in: -1...1, using: &generator)
    expectClose(matmul(a, v), matmul(a, v.reshaped(to: [4, 1])).reshaped(to: [3]), tolerance: 0)
    expectClose(matmul(w, a), matmul(w.reshaped(to: [1, 3]), a).reshaped(to: [4]), tolerance: 0)
    expectClose(matmul(v, v), Tensor((v * v).sum().scalar!), tolerance: 1e-15)
    let batch = Tensor.random([2, 3, 4], in: -1...1, using: &generator)
    let other = Tensor.random([2, 4, 5], in: -1...1, using: &generator)
    let product = matmul(batch, other)
    #expect(product.shape == [2, 3, 5])
    for b in 0..<2 { expectClose(product[b], matmul(batch[b], other[b]), tolerance: 0) }
    let shared = Tensor.random([4, 5], in: -1...1, using: &generator)
    for b in 0..<2 {
      expectClose(matmul(batch, shared)[b], matmul(batch[b], shared), tolerance: 1e-15)
    }
    expectGradientMatchesFiniteDifferences(at: batch) {
      (matmul($0, Variable(other)) * matmul($0, Variable(other))).sum()
    }
    expectGradientMatchesFiniteDifferences(at: v) { x in matmul(Variable(a), x).sum() + matmul(x, x)
    }
  }

  /// The squared difference is one entry with the numbers of the difference times itself:
  /// value and both gradients to the bit, in one shape and broadcast, with edge values; its
  /// gradient doubles ȳ (a − b), so it stays finite where 2(a − b) alone would overflow; and
  /// the mean squared error built on it has the composed one's bits.
  @Test func squaredDifferenceIsTheProductOfTheDifferenceToTheBit() {
    var generator = SeededGenerator(seed: 81)
    let edges: [Double] = [
      0, -0.0, .leastNonzeroMagnitude, 1e-300, 1e154, -1e200, 1e300, .infinity, .nan,
    ]
    for (shapeA, shapeB) in [([300_000], [300_000]), ([7, 5], [7, 5]), ([4, 6], [6]), ([3], [])] {
      var a = Tensor.random(shapeA, in: -3...3, using: &generator)
      let b = Tensor.random(shapeB, in: -3...3, using: &generator)
      if shapeA == shapeB {
        var scalars = a.scalars
        for (index, edge) in edges.enumerated() { scalars[(index * 5) % scalars.count] = edge }
        a = Tensor(scalars).reshaped(to: shapeA)
      }
      let weights = Tensor.random(shapeA, in: -2...2, using: &generator)
      func fused(_ a: Variable, _ b: Variable) -> Variable {
        (squaredDifference(a, b) * Variable(weights)).sum()
      }
      func composed(_ a: Variable, _ b: Variable) -> Variable {
        let d = a - b
        return (d * d * Variable(weights)).sum()
      }
      let (ours, theirs) = (
        valueWithGradient(at: a, b, of: fused), valueWithGradient(at: a, b, of: composed)
      )
      func same(_ p: Tensor, _ q: Tensor) -> Bool {
        p.shape == q.shape
          && zip(p.scalars, q.scalars).allSatisfy {
            $0.bitPattern == $1.bitPattern || $0.isNaN && $1.isNaN
          }
      }
      #expect(same(ours.value, theirs.value), "value, \(shapeA) and \(shapeB)")
      #expect(same(ours.gradient.0, theirs.gradient.0), "ā, \(shapeA) and \(shapeB)")
      #expect(same(ours.gradient.1, theirs.gradient.1), "b̄, \(shapeA) and \(shapeB)")
    }
    // 2(a − b) overflows here, ȳ (a − b) doubled does not.
    let (a, b): (Tensor, Tensor) = ([1e308], [-1e307])
    let g = gradient(at: a) { (squaredDifference($0, Variable(b)) * 1e-10).sum() }
    #expect(g == [2 * (1e-10 * 1.1e308)])
    let p = Tensor.random([1000], in: -5...5, using: &generator)
    let e = Tensor.random([1000], in: -5...5, using: &generator)
    let before = valueWithGradient(at: p) { x in
      let d = x - Variable(e)
      return (d * d).mean()
    }
    let after = valueWithGradient(at: p) { meanSquaredError(predicted: $0, expected: e) }
    #expect(after.value == before.value && after.gradient == before.gradient)
  }

  @Test("Losses match their definitions, and binary cross-entropy is stable at any logit")
  func losses() {
    let p: Tensor = [0.5, -1, 2]
    let e: Tensor = [1, 1, 1]
    #expect(
      meanSquaredError(predicted: Variable(p), expected: e).value == Tensor((0.25 + 4 + 1) / 3))
    expectGradientMatchesFiniteDifferences(at: p) { meanSquaredError(predicted: $0, expected: e) }
    let logits: Tensor = [40, -40, 0, 800, -800]
    let labels: Tensor = [1, 0, 1, 0, 1]
    let bce = binaryCrossEntropy(logits: Variable(logits), labels: labels).value.scalar!
    let exact = (2 * Foundation.exp(-40.0) + Foundation.log(2.0) + 800 + 800) / 5
    #expect(abs(bce - exact) <= 4 * exact.ulp)
    let g = gradient(at: logits) { binaryCrossEntropy(logits: $0, labels: labels) }
    let sigmoidOf = logits.map { 1 / (1 + Foundation.exp(-$0)) }
    expectClose(g, (sigmoidOf - labels) / 5, tolerance: 1e-17)
    // Soft labels: one-hot probabilities give the integer-label cross-entropy.
    let x = Tensor([[1, 2, 3], [0, -1, 4]])
    let soft = crossEntropy(logits: Variable(x), probabilities: Tensor([[0, 0, 1], [1, 0, 0]]))
    expectClose(
      soft.value, crossEntropy(logits: Variable(x), labels: [2, 0]).value, tolerance: 1e-15)
    let masked = Tensor([[0, -.infinity, 3]])
    let finite = crossEntropy(logits: Variable(masked), probabilities: Tensor([[0.25, 0, 0.75]]))
    #expect(finite.value.isFinite)
    expectGradientMatchesFiniteDifferences(at: x) {
      crossEntropy(logits: $0, probabilities: Tensor([[0.2, 0.3, 0.5], [0.6, 0.4, 0]]))
    }
    // Huber: quadratic inside δ, linear outside, as PyTorch.
    let huber = huberLoss(
      predicted: Variable([0.5, 3, -4]), expected: Tensor([0, 0, 0]), delta: 1)
    #expect(huber.value == Tensor((0.125 + 2.5 + 3.5) / 3))
    let huberGradient = gradient(at: [0.5, 3, -4]) {
      huberLoss(predicted: $0, expected: Tensor([0, 0, 0]))
    }
    let third = 1.0 / 3
    #expect(huberGradient == Tensor([0.5 / 3, third, -third]))
    #expect(
      huberLoss(predicted: Variable([1e200]), expected: Tensor([0])).value == Tensor(1e200 - 0.5))
  }

  /// The Huber loss for every kind of δ against its definition written out per entry, to the
  /// bit: values (their mean taken by the same reduction), gradients ((1/n) times the slope,
  /// which is the sweep's order), the second derivative (the inside mask over n) and the edges:
  /// |d| = δ and its neighbours, ±0, ±∞, NaN, subnormals, and outliers whose square would
  /// overflow.
  @Test("Huber loss: every δ against the definition, to the bit")
  func huberLossAgainstItsDefinition() {
    func direct(_ d: Double, _ delta: Double) -> Double {
      abs(d) <= delta ? 0.5 * d * d : delta * (abs(d) - 0.5 * delta)
    }
    func slope(_ d: Double, _ delta: Double) -> Double {
      d.isNaN ? .nan : abs(d) <= delta ? d : d > 0 ? delta : -delta
    }
    for delta in [1, 0.5, 2, 0x1p-60, 0.1, 1.5, 7.25, 1e-200, 1e200] {
      let differences: [Double] = [
        0, -0.0, delta, -delta, delta.nextUp, delta.nextDown, 0.3 * delta, -2.5 * delta,
        1e200, -1e300, Double("3e-320")!, .infinity, -.infinity, .nan,
      ]
      let n = Double(differences.count)
      let (loss, g) = valueWithGradient(at: Tensor(differences)) {
        huberLoss(
          predicted: $0, expected: Tensor(Array(repeating: 0, count: differences.count)),
          delta: delta)
      }
      let wanted = Tensor(differences.map { direct($0, delta) }).mean()
      #expect(
        loss.scalar!.bitPattern == wanted.scalar!.bitPattern
          || (loss.scalar!.isNaN && wanted.scalar!.isNaN), "δ = \(delta): \(loss) against \(wanted)"
      )
      let finite = Array(differences.prefix(11))
      let perEntry = valueWithGradient(at: Tensor(finite)) {
        huberLoss(
          predicted: $0, expected: Tensor(Array(repeating: 0, count: finite.count)), delta: delta)
      }
      #expect(
        perEntry.value == Tensor(finite.map { direct($0, delta) }).mean(), "δ = \(delta)")
      for (index, d) in differences.enumerated() {
        let want = (1 / n) * slope(d, delta)
        let have = g.scalars[index]
        #expect(
          have == want || (have.isNaN && want.isNaN),
          "δ = \(delta), d = \(d): gradient \(have), want \(want)")
      }
    }
    // The second derivative: 1/n inside, 0 outside.
    let h = hessian(at: Tensor([0.5, 3, -0.25])) {
      huberLoss(predicted: $0, expected: Tensor([0, 0, 0]))
    }
    #expect(h == Tensor(shape: [3, 3], scalars: [1.0 / 3, 0, 0, 0, 0, 0, 0, 0, 1.0 / 3]))
    expectGradientMatchesFiniteDifferences(at: [0.31, -2.2, 0.05, 1.7]) {
      huberLoss(predicted: $0, expected: Tensor([0, 0, 0, 0]), delta: 0.3)
    }
    // Both operands variable: the gradient in the expected values too.
    let (gp, ge) = gradient(at: [0.5, 3], [0, 1]) { huberLoss(predicted: $0, expected: $1) }
    #expect(gp == Tensor([0.25, 0.5]) && ge == Tensor([-0.25, -0.5]))
  }

  /// The binary cross-entropy primitive against its composition from softplus (the value to
  /// the bit) and its gradient against (1 − y)σ(x) − yσ(−x) over n to the bit, over logits
  /// from −800 to 800, ±∞ and NaN, labels 0, 1 and soft, of one shape and broadcast; the
  /// second derivative against differences of the gradient.
  @Test("Binary cross-entropy: the composition's value, and each tail's gradient")
  func binaryCrossEntropyAgainstItsComposition() {
    var generator = SeededGenerator(seed: 91)
    var logits = Tensor.random([203], in: -30...30, using: &generator).scalars
    for (index, edge) in [0, -0.0, 40, -40, 800, -800, 1e-300, .infinity, -.infinity, .nan]
      .enumerated()
    {
      logits[index * 7] = edge
    }
    let labels = (0..<203).map { index -> Double in index % 3 == 0 ? 1 : index % 3 == 1 ? 0 : 0.3 }
    let (x, y) = (Tensor(logits), Tensor(labels))
    let n = Double(logits.count)
    let (loss, g) = valueWithGradient(at: x) { binaryCrossEntropy(logits: $0, labels: y) }
    let composed = (y * softplus(-Variable(x)) + (1 - y) * softplus(Variable(x))).mean().value
    #expect(
      loss.scalar!.bitPattern == composed.scalar!.bitPattern
        || (loss.scalar!.isNaN && composed.scalar!.isNaN))
    for index in logits.indices {
      let (xi, yi) = (logits[index], labels[index])
      let want =
        (1 / n) * ((1 - yi) * sigmoid(Tensor(xi)).scalar! - yi * sigmoid(Tensor(-xi)).scalar!)
      let have = g.scalars[index]
      #expect(
        have.bitPattern == want.bitPattern || (have.isNaN && want.isNaN),
        "x = \(xi), y = \(yi): \(have), want \(want)")
    }
    // The right tail keeps its relative accuracy: σ(−40) ≈ 4.25e−18, not 0 from σ(40) − 1.
    let tail = gradient(at: [40]) { binaryCrossEntropy(logits: $0, labels: [1]) }
    #expect(abs(tail.scalars[0] + Foundation.exp(-40)) <= 4 * Foundation.exp(-40).ulp)
    // A broadcast label takes the broadcasting loop, with the same numbers.
    let broadcast = valueWithGradient(at: x) { binaryCrossEntropy(logits: $0, labels: Tensor(0.3)) }
    let spread = valueWithGradient(at: x) {
      binaryCrossEntropy(logits: $0, labels: Tensor(repeating: 0.3, shape: [203]))
    }
    #expect(broadcast.value.scalar!.isNaN && spread.value.scalar!.isNaN)
    #expect(
      zip(broadcast.gradient.scalars, spread.gradient.scalars).allSatisfy {
        $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN)
      })
    expectHessianMatchesDifferences(at: [0.3, -1.2, 2.5], "binaryCrossEntropy") {
      binaryCrossEntropy(logits: $0, labels: [1, 0, 0.3])
    }
  }

  /// swish keeps y′ = σ + xσ′ from its forward pass: its value is x ⊙ σ(x) to the bit and its
  /// VJP ȳ ⊙ (σ + x(σ σ(−x))) to the bit, for a seed, a unit and a uniform cotangent, for an
  /// input used twice, and from a tape whose input needed no gradient when swish was recorded.
  @Test("swish: the kept derivative gives the rule's bits")
  func swishKeepsItsDerivative() {
    var generator = SeededGenerator(seed: 93)
    var xs = Tensor.random([101], in: -40...40, using: &generator).scalars
    for (index, edge) in [0, -0.0, 800, -800, -745, .infinity, -.infinity, .nan].enumerated() {
      xs[index * 11] = edge
    }
    let x = Tensor(xs)
    let s = sigmoid(x)
    // The composition, with the limits at ±∞ where it meets ∞ · 0: swish(−∞) = −0, and slopes
    // 0 at −∞ and 1 at +∞.
    let slope = Tensor(
      zip(xs, (s + x * (s * sigmoid(-x))).scalars).map { $0.isInfinite ? ($0 > 0 ? 1 : 0) : $1 })
    let product = Tensor(zip(xs, (x * s).scalars).map { $0 == -.infinity ? -0.0 : $1 })
    func same(_ a: Tensor, _ b: Tensor) -> Bool {
      a.shape == b.shape
        && zip(a.scalars, b.scalars).allSatisfy {
          $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN)
        }
    }
    #expect(same(swish(x), product))
    let seed = Tensor.random([101], in: -2...2, using: &generator)
    let (y, pullback) = valueWithPullback(at: x) { swish($0) }
    #expect(same(y, product))
    #expect(same(pullback(seed), seed * slope))
    #expect(same(gradient(at: x) { swish($0).sum() }, slope))
    #expect(same(gradient(at: x) { (3 * swish($0)).sum() }, 3 * slope))
    // Used twice: swish(x) + x, whose adjoint adds 1.
    #expect(same(gradient(at: x) { (swish($0) + $0).sum() }, slope + 1))
  }

  /// gelu keeps y′ = erfc(u)/2 + x e^(−u²)/√(2π), u = −x/√2, from its forward pass: its value
  /// is the composition (x/2) erfc(u) to the bit and its VJP ȳ ⊙ y′ to the bit, for a seed, a
  /// unit and a uniform cotangent, for an input used twice, and through the rule that recomputes
  /// y′ when nothing was kept; its Hessian agrees with differences of the gradient.
  @Test("gelu: the kept derivative gives the rule's bits")
  func geluKeepsItsDerivative() {
    var generator = SeededGenerator(seed: 94)
    var xs = Tensor.random([101], in: -45...45, using: &generator).scalars
    let edges = [0, -0.0, 38.5, -38.5, -38.6, 1e300, -1e300, .infinity, -.infinity, .nan]
    for (index, edge) in edges.enumerated() { xs[index * 10] = edge }
    let x = Tensor(xs)
    let scale: Double = -(0.5.squareRoot())
    let u: Tensor = scale * x
    let e: Tensor = erfc(u)
    let half: Tensor = 0.5 * x
    let gaussian: Tensor = 0x1.9884533d43651p-2 * exp(-(u * u))
    // The composition, with the limits at ±∞ where it meets ∞ · 0: gelu(−∞) = −0, and slopes 0
    // at −∞ and 1 at +∞.
    let value = Tensor(zip(xs, (half * e).scalars).map { $0 == -.infinity ? -0.0 : $1 })
    let composedSlope: Tensor = 0.5 * e + x * gaussian
    let slope = Tensor(
      zip(xs, composedSlope.scalars).map { $0.isInfinite ? ($0 > 0 ? 1 : 0) : $1 })
    func same(_ a: Tensor, _ b: Tensor) -> Bool {
      a.shape == b.shape
        && zip(a.scalars, b.scalars).allSatisfy {
          $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN)
        }
    }
    #expect(same(gelu(x), value))
    #expect(same(Tensor(x.scalars.map { Gelu.value($0) }), value))
    let seed = Tensor.random([101], in: -2...2, using: &generator)
    let (y, pullback) = valueWithPullback(at: x) { gelu($0) }
    #expect(same(y, value))
    #expect(same(pullback(seed), seed * slope))
    #expect(same(gradient(at: x) { gelu($0).sum() }, slope))
    #expect(same(gradient(at: x) { (3 * gelu($0)).sum() }, 3 * slope))
    #expect(same(gradient(at: x) { (gelu($0) + $0).sum() }, slope + 1))
    var cotangent: Tensor? = seed
    var output = value
    #expect(same(Gelu.fusedPullback(&cotangent, x: x, y: &output), seed * slope))
    // The left tail is kept, not cancelled: gelu(−10) = −7.61985302416053e−23 (mpmath).
    #expect(abs(gelu(Tensor(-10)).scalar! / -7.61985302416053e-23 - 1) < 1e-13)
    expectHessianMatchesDifferences(at: [0.3, -1.2, 2.5, -6], "gelu") { gelu($0).sum() }
  }

  /// elu and leakyRelu are one entry of two operands each (α a constant): their values are the
  /// definitions' to the bit, their VJPs the rules' (1 where x > 0; α eˣ or α elsewhere; NaN at
  /// NaN) to the bit for a seed and through a sum, with edges where eˣ would overflow; the
  /// gradient with respect to α (recorded as a variable) is eˣ − 1 or x where x ≤ 0.
  @Test("elu and leakyRelu: one entry each, the rules' bits")
  func rectifiersWithASlope() {
    var generator = SeededGenerator(seed: 95)
    var xs = Tensor.random([101], in: -40...40, using: &generator).scalars
    let edges = [0, -0.0, 800, -800, 1e300, -1e300, .infinity, -.infinity, .nan, Double("1e-310")!]
    for (index, edge) in edges.enumerated() { xs[index * 10] = edge }
    let x = Tensor(xs)
    let seed = Tensor.random([101], in: -2...2, using: &generator)
    func same(_ a: Tensor, _ b: Tensor) -> Bool {
      a.shape == b.shape
        && zip(a.scalars, b.scalars).allSatisfy {
          $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN)
        }
    }
    for alpha in [1.0, 0.3, -2] {
      let eluValue = Tensor(xs.map { $0 > 0 ? $0 : alpha * Foundation.expm1($0) })
      // 0 + α eˣ, as the rule sums the step and the selection: +0 where α eˣ is −0.
      let eluSlope = Tensor(
        xs.map { $0 != $0 ? .nan : $0 > 0 ? 1 : 0 + alpha * exponential(Swift.min($0, 0)) })
      let recording = Tape()
      let y = elu(recording.variable(x), alpha: alpha)
      #expect(recording.count == 2, "x and one elu entry (α a constant operand)")
      #expect(
        zip(y.value.scalars, eluValue.scalars).allSatisfy {
          abs($0 - $1) <= $1.ulp || ($0.isNaN && $1.isNaN) || $0 == $1
        })
      #expect(same(elu(x, alpha: alpha), y.value))
      let (_, pullback) = valueWithPullback(at: x) { elu($0, alpha: alpha) }
      #expect(same(pullback(seed), seed * eluSlope), "elu, α = \(alpha)")
      #expect(same(gradient(at: x) { elu($0, alpha: alpha).sum() }, eluSlope))

      let leakyValue = Tensor(xs.map { $0 > 0 ? $0 : alpha * $0 })
      let leakySlope = Tensor(xs.map { $0 != $0 ? .nan : $0 > 0 ? 1 : alpha })
      #expect(same(leakyRelu(x, alpha: alpha), leakyValue))
      #expect(same(leakyRelu(Variable(x), alpha: alpha).value, leakyValue))
      let (_, leakyPullback) = valueWithPullback(at: x) { leakyRelu($0, alpha: alpha) }
      #expect(same(leakyPullback(seed), seed * leakySlope), "leakyRelu, α = \(alpha)")
      #expect(same(gradient(at: x) { leakyRelu($0, alpha: alpha).sum() }, leakySlope))
    }
    // With respect to α: Σ ȳ (eˣ − 1) and Σ ȳ x over x ≤ 0.
    let finite = Tensor(xs.map { $0.isFinite && abs($0) < 1e3 ? $0 : 0.5 })
    let tape = Tape()
    let input = tape.variable(finite)
    let alpha = tape.variable(Tensor(0.7))
    let both =
      (Variable.apply(ExponentialLinearUnit.self, input, alpha) * seed).sum()
      + (Variable.apply(LeakyRectifiedLinearUnit.self, input, alpha) * seed).sum()
    let gradients = tape.gradient(of: both, wrt: [input, alpha])
    let expected = zip(finite.scalars, seed.scalars).reduce(0.0) { total, pair in
      pair.0 > 0 ? total : total + pair.1 * Foundation.expm1(pair.0) + pair.1 * pair.0
    }
    #expect(abs(gradients[1].scalar! - expected) <= 1e-12 * abs(expected))
    let slopes = Tensor(
      finite.scalars.map { $0 > 0 ? 2 : 0.7 * exponential(Swift.min($0, 0)) + 0.7 })
    #expect(
      zip(gradients[0].scalars, (seed * slopes).scalars).allSatisfy {
        abs($0 - $1) <= 2 * $1.ulp
      })
    expectHessianMatchesDifferences(at: [0.3, -1.2, 2.5, -6], "elu") {
      elu($0, alpha: 0.7).sum()
    }
  }

  /// min is one entry with −max(−a, −b)'s values and derivatives to the bit (ties ½ and ½, ±0,
  /// NaN, broadcasting, constants on either side); a constant scalar second operand of min,
  /// elu, leakyRelu and the Huber function takes the function's own pass with the bits of the
  /// filled operand's.
  @Test("min is one entry; constant operands need no filling")
  func minimumAndConstantOperands() {
    var generator = SeededGenerator(seed: 96)
    var xs = Tensor.random([120], in: -3...3, using: &generator).scalars
    var ts = Tensor.random([120], in: -3...3, using: &generator).scalars
    let pairs: [(Double, Double)] = [
      (1.5, 1.5), (0, -0.0), (-0.0, 0), (.nan, 1), (1, .nan), (.infinity, 2), (1e300, 1e300),
      (-1e300, 1e300), (0x1p-1074, 0x1p-1074), (-.infinity, -.infinity), (.nan, .nan),
    ]
    for (index, (x, t)) in pairs.enumerated() {
      (xs[index * 7], ts[index * 7]) = (x, t)
    }
    let (x, t) = (Tensor(xs), Tensor(ts))
    let seed = Tensor.random([120], in: -2...2, using: &generator)
    func same(_ a: Tensor, _ b: Tensor) -> Bool {
      a.shape == b.shape
        && zip(a.scalars, b.scalars).allSatisfy {
          $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN)
        }
    }
    func composed(_ a: Variable, _ b: Variable) -> Variable { -max(-a, -b) }
    let recording = Tape()
    _ = min(recording.variable(x), recording.variable(t))
    #expect(recording.count == 3)
    #expect(same(min(x, t), composed(Variable(x), Variable(t)).value))
    let ours = gradient(at: [x, t]) { (min($0[0], $0[1]) * seed).sum() }
    let theirs = gradient(at: [x, t]) { (composed($0[0], $0[1]) * seed).sum() }
    #expect(same(ours[0], theirs[0]) && same(ours[1], theirs[1]))
    // Broadcasting a row, and constants on either side.
    let m = x.reshaped(to: [10, 12])
    let row = t.reshaped(to: [10, 12]).slice(lowerBounds: [0, 0], upperBounds: [1, 12])
    let broadcast = gradient(at: [m, row]) {
      (min($0[0], $0[1]) * seed.reshaped(to: [10, 12])).sum()
    }
    let broadcastComposed = gradient(at: [m, row]) {
      (composed($0[0], $0[1]) * seed.reshaped(to: [10, 12])).sum()
    }
    #expect(same(broadcast[0], broadcastComposed[0]) && same(broadcast[1], broadcastComposed[1]))
    for c in [0.5, 0, -0.0, .nan] {
      let filled = Tensor(repeating: c, shape: x.shape)
      let pairs: [(String, (Variable, Variable) -> Variable)] = [
        ("min", { min($0, $1) }), ("min, constant first", { min($1, $0) }),
        ("elu", { Variable.apply(ExponentialLinearUnit.self, $0, $1) }),
        ("leakyRelu", { Variable.apply(LeakyRectifiedLinearUnit.self, $0, $1) }),
        ("huber", { Variable.apply(Huber.self, $0, $1) }),
      ]
      for (name, f) in pairs {
        let scalar = gradient(at: x) { (f($0, Variable(c)) * seed).sum() }
        let tensor = gradient(at: x) { (f($0, Variable(filled)) * seed).sum() }
        #expect(same(scalar, tensor), "\(name), constant \(c)")
      }
    }
    // clamp's derivative: 1 inside, 0 outside, ½ at a bound.
    #expect(
      gradient(at: [0.5, 1, 1.5, 2, 0.2]) { clamp($0, min: 0.5, max: 1.5).sum() }
        == [0.5, 1, 0.5, 0, 0])
  }

  @Test("Tensor conveniences")
  func conveniences() throws {
    var t: Tensor = [1, 2, 3]
    t += 1
    t *= Tensor([2, 2, 2])
    t -= [1, 1, 1]
    t /= 2
    #expect(t == [1.5, 2.5, 3.5])
    #expect(Tensor([[[1, 2]], [[3, 4]]]).shape == [2, 1, 2])
    #expect(Tensor(rangeFrom: 0, to: 1, stride: 0.25) == [0, 0.25, 0.5, 0.75])
    #expect(Tensor(rangeFrom: 3, to: 0, stride: -1) == [3, 2, 1])
    #expect(Tensor(linearSpaceFrom: 0, to: 1, count: 5) == [0, 0.25, 0.5, 0.75, 1])
    #expect(Tensor(linearSpaceFrom: 0, to: 0.3, count: 4).scalars.last == 0.3)
    let m = Tensor([[1, 2], [3, 4.5]])
    let data = try JSONEncoder().encode(m)
    #expect(try JSONDecoder().decode(Tensor.self, from: data) == m)
    #expect(throws: DecodingError.self) {
      try JSONDecoder().decode(Tensor.self, from: Data(#"{"shape": [2, 2], "scalars": [1]}"#.utf8))
    }
    let big = Tensor(rangeFrom: 0, to: 100_000, stride: 1)
    #expect(big.description == "[0.0, 1.0, 2.0, …, 99997.0, 99998.0, 99999.0]")
    #expect(big.reshaped(to: [1000, 100]).description.count < 400)
    #expect(m.map { $0 * 2 } == Tensor([[2, 4], [6, 9]]))
  }
}

@Suite("The function library on tensors and with constants")
struct FunctionLibraryTensorTests {
  @Test func tensorsAndConstantsAgreeWithVariables() {
    let x: Tensor = [-2, -0.5, 0.5, 2]
    #expect(gelu(x) == gelu(Variable(x)).value)
    #expect(swish(x) == swish(Variable(x)).value)
    #expect(leakyRelu(x, alpha: 0.2) == [-0.4, -0.1, 0.5, 2])
    #expect(elu(x) == elu(Variable(x)).value)
    #expect(clamp(x, min: -1, max: 1) == [-1, -0.5, 0.5, 1])
    #expect(select([1, 0, 1, 0], x, -x) == [-2, 0.5, 0.5, -2])
    #expect(min(Variable(x), Tensor([0, 0, 0, 0])).value == [-2, -0.5, 0, 0])
    #expect(max(Tensor([0, 0, 0, 0]), Variable(x)).value == [0, 0, 0.5, 2])
    #expect(pow(Variable(x * x), 0.5).value == x.map(abs))
    #expect(
      atan2(Tensor([1, 1]), Tensor([1, -1]))
        == Tensor([Foundation.atan2(1, 1), Foundation.atan2(1, -1)]))
    #expect(hypot(Variable(Tensor([3, 5])), 4).value == [5, Foundation.hypot(5, 4)])
  }
}
