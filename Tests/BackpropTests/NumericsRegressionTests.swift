import Backprop
import Foundation
import Testing

// One test per defect a new user found at the edges (each failed before its fix), and the
// aliasing audit: a function that returns its input, a constant, or one variable used twice.

@Suite("Regressions: aliasing, large logits, tails, NaN, keep-dims, steps, tape lifecycle")
struct NumericsRegressionTests {
  // MARK: 0. Aliasing

  @Test("The Jacobian of the identity is the identity, at every rank and beside softmax")
  func jacobianOfTheIdentity() {
    let identity3 = Tensor(shape: [3, 3], scalars: [1, 0, 0, 0, 1, 0, 0, 0, 1])
    #expect(jacobian(at: [1, 2, 3]) { x in x } == identity3)
    #expect(jacobian(at: Tensor(2)) { x in x } == Tensor(1))
    #expect(
      jacobian(at: Tensor([[1, 2]])) { x in x }
        == Tensor(shape: [1, 2, 1, 2], scalars: [1, 0, 0, 1]))
    for flag in [false, true] {
      let j = jacobian(at: [1, 2, 3]) { x in flag ? softmax(x) : x }
      #expect(j == (flag ? jacobian(at: [1, 2, 3], of: softmax) : identity3))
    }
    #expect(compareJacobians(at: [1, 2], { $0 }, { $0 * 1 }).maxAbsoluteDifference == 0)
    #expect(pullback(at: [1, 2]) { $0 }([3, 4]) == [3, 4])
    #expect(gradient(at: Tensor(5)) { $0 } == Tensor(1))
    #expect(hessian(at: [1, 2]) { ($0 * $0).sum() / 2 } == Tensor([[1, 0], [0, 1]]))
  }

  @Test("A result that is a constant, or does not depend on the input, has zero derivative")
  func constantResults() {
    #expect(jacobian(at: [1, 2]) { _ in Variable([5, 6, 7]) } == .zeros([3, 2]))
    #expect(gradient(at: [1, 2]) { _ in Variable(3) } == [0, 0])
    let tape = Tape()
    let x = tape.variable([1, 2])
    let c = tape.constant([3, 4])
    #expect(tape.gradient(of: c.sum(), wrt: x) == [0, 0])
    #expect(hessian(at: [1, 2]) { $0.sum() } == .zeros([2, 2]))
  }

  @Test("One variable used twice adds both contributions, in every primitive with two operands")
  func oneVariableUsedTwice() {
    let x: Tensor = [0.5, -2, 3]
    #expect(gradient(at: x) { ($0 + $0).sum() } == [2, 2, 2])
    #expect(gradient(at: x) { ($0 - $0).sum() } == [0, 0, 0])
    #expect(gradient(at: x) { ($0 * $0).sum() } == 2 * x)
    #expect(gradient(at: x) { ($0 / $0).sum() } == [0, 0, 0])
    #expect(gradient(at: x) { max($0, $0).sum() } == [1, 1, 1])
    let m = Tensor([[1, 2], [3, 4]])
    expectClose(
      gradient(at: m) { matmul($0, $0).sum() },
      matmul(.ones([2, 2]), m.transposed()) + matmul(m.transposed(), .ones([2, 2])),
      tolerance: 0)
    // Jacobian rows stay apart when a VJP passes the seed on unchanged.
    #expect(jacobian(at: [1, 2]) { $0 + $0 } == Tensor([[2, 0], [0, 2]]))
  }

  // MARK: 1. Large tied logits

  @Test("logSoftmax and crossEntropy keep ln Σ when the logits are huge and tied")
  func largeTiedLogits() {
    let ln2 = Foundation.log(2.0)
    for fused in [true, false] {
      let f: (Variable) -> Variable = { fused ? logSoftmax($0) : composedLogSoftmax($0) }
      let (value, g) = valueWithGradient(at: [1e17, 1e17]) { f($0).sum() }
      #expect(value == Tensor(-2 * ln2))
      #expect(g == [0, 0])
      expectClose(gradient(at: [1e300, 1e300, 0]) { f($0).sum() }, [-0.5, -0.5, 1], tolerance: 0)
      let ce: (Variable) -> Variable = { logits in
        fused
          ? crossEntropy(logits: logits, labels: [0])
          : composedCrossEntropy(logits: logits, labels: [0])
      }
      #expect(ce(Variable(Tensor([[1e17, 1e17]]))).value == Tensor(ln2))
      #expect(gradient(at: Tensor([[1e17, 1e17]]), of: ce) == Tensor([[-0.5, 0.5]]))
    }
    // Three ties at 10⁶: each entry is −ln 3, correctly rounded.
    #expect(
      logSoftmax(Tensor([1e6, 1e6, 1e6])) == Tensor(repeating: -Foundation.log(3.0), shape: [3]))
  }

  /// Rows of 64 and more find their maximum with the vectorized kernel and, for log-softmax,
  /// sum their exponentials without storing them: the same edges there, fused against the
  /// composed twin (which takes its maximum by the `max` reduction), values and gradients, with
  /// a NaN or an infinity in a full vector or in the last, padded lanes.
  @Test func wideRowsKeepTheEdges() {
    let width = 100  // 12 vectors of 8 and a tail of 4
    func row(_ fill: Double, _ specials: [(Int, Double)]) -> Tensor {
      var scalars = (0..<width).map { fill - Double($0 % 7) }
      for (index, value) in specials { scalars[index] = value }
      return Tensor(scalars)
    }
    let rows = [
      row(1e300, []), row(-1e300, []), row(0, [(3, 1e300), (97, 1e300)]),
      row(0, [(3, 1e17), (50, 1e17), (98, 1e17)]), row(0, [(5, .infinity)]),
      row(0, [(99, .infinity)]), row(0, [(5, .nan)]), row(0, [(98, .nan)]),
      row(-.infinity, []), row(0, [(0, -.infinity), (99, -.infinity)]),
      Tensor(repeating: 1e6, shape: [width]),
    ]
    func agree(_ p: Tensor, _ q: Tensor) -> Bool {
      p.shape == q.shape
        && zip(p.scalars, q.scalars).allSatisfy { a, b in
          a == b || a.isNaN && b.isNaN || abs(a - b) <= 1e-15 * Swift.max(1, abs(b))
        }
    }
    for x in rows {
      let fused = valueWithGradient(at: x) { logSoftmax($0)[3] }
      let composed = valueWithGradient(at: x) { composedLogSoftmax($0)[3] }
      #expect(agree(logSoftmax(x), composedLogSoftmax(Variable(x)).value), "\(x.scalars.prefix(6))")
      #expect(agree(fused.gradient, composed.gradient), "\(x.scalars.prefix(6))")
      #expect(agree(softmax(x), composedSoftmax(Variable(x)).value), "\(x.scalars.prefix(6))")
    }
    // k ties at a large magnitude: each tied entry is −ln k.
    #expect(logSoftmax(rows[2])[3].scalar! == -Foundation.log(2.0))
    #expect(logSoftmax(rows[10])[0].scalar! == -Foundation.log(Double(width)))
  }

  // MARK: 2. Sigmoid's tails

  @Test("sigmoid is accurate in both tails, and so is its derivative")
  func sigmoidTails() {
    let (value, slope) = valueWithGradient(at: Tensor(-40)) { log(sigmoid($0)) }
    #expect(abs(value.scalar! + 40) <= 1e-14)
    #expect(abs(slope.scalar! - 1) <= 1e-15)
    for x in [-745.0, -700, -37, -30, -1, 0, 1, 30, 37, 40] {
      let exact = x < 0 ? Foundation.exp(x) / (1 + Foundation.exp(x)) : 1 / (1 + Foundation.exp(-x))
      let got = sigmoid(Tensor(x)).scalar!
      #expect(abs(got - exact) <= 4 * exact.ulp, "σ(\(x)) = \(got), expected \(exact)")
      // σ′(x) = σ(x) σ(−x), relative to a few ulps even where σ rounds to 1.
      let derivative = gradient(at: Tensor(x)) { sigmoid($0) }.scalar!
      let exactDerivative =
        exact
        * (x < 0 ? 1 / (1 + Foundation.exp(x)) : Foundation.exp(-x) / (1 + Foundation.exp(-x)))
      #expect(
        abs(derivative - exactDerivative) <= 8 * exactDerivative.ulp,
        "σ′(\(x)) = \(derivative), expected \(exactDerivative)")
    }
    #expect(sigmoid(Tensor([-.infinity, .infinity, -800])) == [0, 1, 0])
    #expect(gradient(at: [-800, 800]) { sigmoid($0).sum() } == [0, 0])
    // The second derivative, σ(1 − σ)(1 − 2σ), recorded through the VJP.
    for x in [-3.0, 0.5, 2] {
      let s = 1 / (1 + Foundation.exp(-x))
      let h = hessian(at: Tensor(x)) { sigmoid($0) }.scalar!
      #expect(abs(h - s * (1 - s) * (1 - 2 * s)) <= 1e-15)
    }
  }

  // MARK: 3. NaN propagates

  @Test("NaN in gives NaN out: relu, masks, and max in value and derivative")
  func nanPropagates() {
    let (value, g) = valueWithGradient(at: [.nan, 2, -1]) { relu($0).sum() }
    #expect(value.scalar!.isNaN)
    #expect(g.scalars[0].isNaN && g.scalars[1] == 1 && g.scalars[2] == 0)
    #expect(Variable([1, 2]).masked(by: [.nan, 0]).value.scalars[0].isNaN)
    #expect(relu(Variable([.nan])).value.scalars[0].isNaN)
    #expect(relu(Variable([.infinity, -.infinity, 0, -0.0, 2])).value == [.infinity, 0, 0, 0, 2])
    #expect(gradient(at: [.infinity, -.infinity, 0, 2]) { relu($0).sum() } == [1, 0, 0, 1])
    let functions: [(Variable) -> Variable] = [
      { exp($0) }, { log($0) }, { sqrt($0) }, { tanh($0) }, { sigmoid($0) }, { relu($0) },
    ]
    for f in functions {
      let (y, dy) = valueWithGradient(at: [.nan]) { f($0).sum() }
      #expect(y.scalar!.isNaN && dy.scalar!.isNaN)
    }
  }

  // MARK: 4. Keep-dims

  @Test("logSumExp keeps reduced axes like sum, mean and max; the plain form reduces all")
  func logSumExpKeepsAxes() {
    var generator = SeededGenerator(seed: 4)
    let x = Tensor.random([3, 3], in: -2...2, using: &generator)
    let v = Variable(x)
    #expect(logSumExp(v, alongAxes: 1).shape == v.sum(alongAxes: 1).shape)
    #expect(logSumExp(v, alongAxes: 0).shape == v.max(alongAxes: 0).shape)
    #expect(logSumExp(v).shape == [])
    expectClose((v - logSumExp(v, alongAxes: -1)).value, logSoftmax(x), tolerance: 1e-15)
    expectClose(
      logSumExp(v).value, Tensor(Foundation.log(x.scalars.map(Foundation.exp).reduce(0, +))),
      tolerance: 1e-15)
    #expect(
      logSumExp(Variable(Tensor(shape: [2, 0], scalars: [])), alongAxes: 1).value
        == [[-.infinity], [-.infinity]].tensor)
    #expect(logSumExp(Tensor(shape: [0], scalars: [])) == Tensor(-.infinity))
  }

  // MARK: 5. Steps scaled to the input

  @Test("Gradient checks scale the step with the input, and are never passed when meaningless")
  func scaledSteps() {
    for x in [1e10, -3e15, 1e-20, 1e150] {
      let report = checkGradient(at: [x]) { pow($0, 2).sum() }
      #expect(report.passed, "\(report)")
      #expect(abs(report.steps.scalars[0] - 1e-6 * max(1, abs(x))) <= 1e-9 * max(1, abs(x)))
    }
    // Here a step of x₀ changes the sum by less than the sum's own rounding.
    let swamped = checkGradient(at: [1e10, 3e15]) { pow($0, 2).sum() }
    #expect(swamped.verdict == .inconclusive, "\(swamped)")
    let saturated = checkGradient(at: [1e300, 1e300, 0]) {
      (softmax($0) * Tensor([1, 2, 3])).sum()
    }
    #expect(saturated.verdict == .inconclusive, "\(saturated)")
    #expect(!saturated.passed)
    #expect(
      CentralDifferences(at: [1e300, 1e300, 0], of: softmax).resolved == [false, false, true])
    // A wrong derivative is still caught at a large input.
    let wrong = checkGradient(at: [1e8]) { x in (x * Variable(x.value)).sum() }
    #expect(wrong.verdict == .failed)
  }

  // MARK: 6. Subscripts

  @Test("t[i] is the slice along the first axis for Tensor and Variable alike")
  func subscriptsAgree() {
    let m = Tensor([[1, 2], [3, 4]])
    #expect(m[0] == [1, 2])
    #expect(m[1] == Variable(m)[1].value)
    #expect(Tensor([5, 6])[1] == Tensor(6))
    #expect(m[1, 0] == 3)
  }

  // MARK: 7 and 8. The tape's lifecycle

  @Test("A tape reset each step stays small; gradient(of:wrt:) and backward() agree on grad")
  func tapeLifecycle() {
    let tape = Tape()
    var w: Tensor = [0.5, -0.5]
    var counts: Set<Int> = []
    for _ in 0..<50 {
      tape.reset()
      let parameters = tape.variable(w)
      let loss = (parameters * parameters).sum()
      loss.backward()
      w = w - 0.1 * parameters.grad!
      counts.insert(tape.count)
    }
    #expect(counts == [3], "each step records the same entries, not all earlier steps'")
    expectClose(w, [0.5, -0.5] * Foundation.pow(0.8, 50), tolerance: 1e-15)

    tape.reset()
    let x = tape.variable([1, 2])
    let y = (x * x).sum()
    let g = tape.gradient(of: y, wrt: x)
    #expect(x.grad == g)
    y.backward()
    #expect(x.grad == g)
  }

  @Test func staleVariablesAreRefused() async {
    await #expect(processExitsWith: .failure) {
      let tape = Tape()
      let x = tape.variable([1])
      tape.reset()
      _ = x * 2
    }
  }
}

extension Array where Element == [Double] {
  fileprivate var tensor: Tensor { Tensor(self) }
}

@Suite("Regressions: empty batches and overflowing messages")
struct EdgeMessageRegressionTests {
  @Test func anEmptyBatchGivesPositiveZeroFusedAndComposed() {
    let empty = Variable(Tensor(shape: [0, 3], scalars: []))
    let fused = crossEntropy(logits: empty, labels: []).value.scalar!
    let composed = composedCrossEntropy(logits: empty, labels: []).value.scalar!
    #expect(fused == 0 && fused.sign == .plus)
    #expect(composed == 0 && composed.sign == .plus)
  }

  @Test func anOverflowingShapeSaysSo() async {
    await #expect(processExitsWith: .failure) {
      _ = Tensor.zeros([1 << 32, 1 << 32])
    }
  }
}
