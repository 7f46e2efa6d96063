import Backprop
import Foundation
import Testing

@Suite("Softmax: fused, composed, analytic, finite differences")
struct SoftmaxTests {
  @Test("The seeds' figures: softmax([1, 2]) and its Jacobian, fused and composed")
  func seedFigures() {
    let x: Tensor = [1, 2]
    let expected: Tensor = [0.26894142, 0.73105858]
    expectClose(softmax(x), expected, tolerance: 5e-9)
    expectClose(composedSoftmax(Variable(x)).value, expected, tolerance: 5e-9)
    let jacobianFigure = Tensor([[0.19661193, -0.19661193], [-0.19661193, 0.19661193]])
    expectClose(jacobian(at: x, of: softmax), jacobianFigure, tolerance: 5e-9)
    expectClose(jacobian(at: x, of: composedSoftmax), jacobianFigure, tolerance: 5e-9)
    expectClose(softmaxJacobian(at: x), jacobianFigure, tolerance: 5e-9)
  }

  enum Input: String, CaseIterable, CustomTestStringConvertible {
    case random, large, ties, allEqual

    var testDescription: String { rawValue }

    func tensor(count n: Int) -> Tensor {
      var generator = SeededGenerator(seed: UInt64(n))
      switch self {
      case .random: return .random([n], scale: 3, using: &generator)
      case .large: return .random([n], scale: 1000, using: &generator)
      case .ties:
        // Several entries share the maximum, and others tie below it.
        return Tensor((0..<n).map { Double([2, 5, 5, -1][$0 % 4]) })
      case .allEqual: return Tensor(repeating: 0.75, shape: [n])
      }
    }
  }

  @Test(
    "Fused, composed, diag(s) − s sᵀ and central differences agree",
    arguments: [1, 2, 3, 10, 100], Input.allCases)
  func jacobiansAgree(n: Int, input: Input) {
    let x = input.tensor(count: n)
    let comparison = compareJacobians(at: x, softmax, composedSoftmax)
    #expect(comparison.maxAbsoluteDifference <= 1e-12, "\(comparison)")
    let analytic = softmaxJacobian(at: x)
    expectClose(comparison.first, analytic, tolerance: 1e-15, "fused vs analytic")
    expectClose(comparison.second, analytic, tolerance: 1e-12, "composed vs analytic")
    expectClose(
      numericalJacobian(at: x, of: softmax), analytic, tolerance: 1e-8, "finite differences")
    // Each row of a softmax Jacobian sums to zero: J 1 = s − s Σ s = 0.
    let rowSums = comparison.first.sum(alongAxes: 1)
    #expect(rowSums.scalars.allSatisfy { abs($0) <= 1e-15 })
  }

  @Test("Batched softmax has a block-diagonal Jacobian [N, C, N, C]")
  func batchedJacobianIsBlockDiagonal() {
    var generator = SeededGenerator(seed: 11)
    let (rows, classes) = (3, 4)
    let x = Tensor.random([rows, classes], scale: 2, using: &generator)
    let fused = jacobian(at: x, of: softmax)
    #expect(fused.shape == [rows, classes, rows, classes])
    expectClose(fused, jacobian(at: x, of: composedSoftmax), tolerance: 1e-12)
    expectClose(fused, softmaxJacobian(at: x), tolerance: 1e-15)
    let scalars = x.scalars
    for n in 0..<rows {
      let row = Tensor(Array(scalars[(n * classes)..<((n + 1) * classes)]))
      let block = jacobian(at: row, of: softmax)
      for m in 0..<rows {
        for i in 0..<classes {
          for j in 0..<classes {
            let expected = n == m ? block[i, j] : 0
            #expect(fused[n, i, m, j] == expected)
          }
        }
      }
    }
  }

  @Test("The fused VJP is y ⊙ (g − ⟨g, y⟩)")
  func fusedVJPFormula() {
    let x: Tensor = [0.5, -1, 2, 0]
    let g: Tensor = [1, -2, 0.5, 3]
    let y = softmax(x)
    let expected = y * (g - (g * y).sum())
    expectClose(pullback(at: x, of: softmax)(g), expected, tolerance: 1e-16)
    expectClose(pullback(at: x, of: composedSoftmax)(g), expected, tolerance: 1e-15)
  }

  @Test(
    "Fused logSoftmax agrees with its composed twin and with the formula",
    arguments: [1, 2, 3, 10, 100], Input.allCases)
  func logSoftmaxJacobiansAgree(n: Int, input: Input) {
    let x = input.tensor(count: n)
    let comparison = compareJacobians(at: x, logSoftmax, composedLogSoftmax)
    #expect(comparison.maxAbsoluteDifference <= 1e-12, "\(comparison)")
    // ∂yᵢ/∂xⱼ = δᵢⱼ − softmax(x)ⱼ.
    let s = softmax(x).scalars
    let expected = Tensor(
      shape: [n, n], scalars: (0..<(n * n)).map { ($0 / n == $0 % n ? 1 : 0) - s[$0 % n] })
    // Rounding scales with the logits: y = x − shift carries an absolute error of about ε·|x|,
    // and a central difference of values that large about ε·|y|/h.
    let scale = Swift.max(1, x.scalars.map(abs).max()!)
    expectClose(comparison.first, expected, tolerance: 1e-15 * scale)
    expectClose(numericalJacobian(at: x, of: logSoftmax), expected, tolerance: 1e-9 * scale)
  }

  @Test func logSoftmaxIsOneEntryAndDifferentiatesTwice() {
    let tape = Tape()
    let x = tape.variable([1, 2, 3])
    let before = tape.count
    _ = logSoftmax(x)
    #expect(tape.count - before == 1)
    let point: Tensor = [0.5, -1, 2]
    let weights: Tensor = [1, -2, 0.5]
    expectClose(
      hessian(at: point) { (logSoftmax($0) * weights).sum() },
      hessian(at: point) { (composedLogSoftmax($0) * weights).sum() }, tolerance: 1e-15)
  }

  @Test("One tape entry fused, several composed")
  func tapeCost() {
    let tape = Tape()
    let x = tape.variable([1, 2, 3])
    let before = tape.count
    _ = softmax(x)
    #expect(tape.count - before == 1)
    let middle = tape.count
    _ = composedSoftmax(x)
    #expect(tape.count - middle == 5)  // max, subtract, exp, sum, divide
  }

  @Test("crossEntropy's gradient is (softmax − one-hot) / N")
  func crossEntropyGradient() {
    var generator = SeededGenerator(seed: 5)
    let logits = Tensor.random([4, 3], scale: 2, using: &generator)
    let labels = [2, 0, 1, 2]
    let oneHot = Tensor(
      shape: [4, 3], scalars: labels.flatMap { label in (0..<3).map { $0 == label ? 1.0 : 0 } })
    let (value, grad) = valueWithGradient(at: logits) { crossEntropy(logits: $0, labels: labels) }
    expectClose(grad, (softmax(logits) - oneHot) / 4, tolerance: 1e-16)
    let p = softmax(logits).scalars
    let expected = -labels.enumerated().map { log(p[$0.offset * 3 + $0.element]) }.reduce(0, +) / 4
    #expect(abs(value.scalar! - expected) <= 1e-15)
  }

  @Test("logSumExp's gradient is softmax; logSoftmax's VJP is g − softmax Σg")
  func logSumExpAndLogSoftmax() {
    let x: Tensor = [0.5, -1, 2]
    expectClose(gradient(at: x) { logSumExp($0) }, softmax(x), tolerance: 1e-16)
    let g: Tensor = [1, 2, -0.5]
    expectClose(pullback(at: x, of: logSoftmax)(g), g - softmax(x) * g.sum(), tolerance: 1e-15)
    let batch = Tensor([[1, 2, 3], [0, 0, 0]])
    #expect(logSumExp(Variable(batch), alongAxes: 1).shape == [2, 1])
    expectClose(
      logSumExp(Variable(batch), alongAxes: -1).value,
      Tensor([[log(exp(1) + exp(2) + exp(3))], [log(3)]]), tolerance: 1e-15)
    expectClose(exp(logSoftmax(Variable(batch)).value), softmax(batch), tolerance: 2.5e-16)
  }

  @Test(
    "Stable for huge logits: values and gradients finite",
    arguments: [[1e300, 0, -1e300], [1000, 0, -1000]] as [[Double]])
  func stability(scalars: [Double]) {
    let x = Tensor(scalars)
    let oneHot: Tensor = [1, 0, 0]
    #expect(softmax(x) == oneHot)
    #expect(composedSoftmax(Variable(x)).value == oneHot)
    #expect(logSumExp(Variable(x)).value == Tensor(scalars[0]))
    #expect(logSoftmax(Variable(x)).value == Tensor([0, -scalars[0], scalars[2] - scalars[0]]))
    #expect(composedLogSoftmax(Variable(x)).value == logSoftmax(x))
    let matrix = x.reshaped(to: [1, 3])
    #expect(crossEntropy(logits: Variable(matrix), labels: [0]).value == Tensor(0))
    #expect(crossEntropy(logits: Variable(matrix), labels: [1]).value == Tensor(scalars[0]))
    let gradients = [
      gradient(at: x) { logSumExp($0) },
      gradient(at: x) { (logSoftmax($0) * Tensor([1, 2, 3])).sum() },
      gradient(at: x) { (composedLogSoftmax($0) * Tensor([1, 2, 3])).sum() },
      gradient(at: x) { (softmax($0) * Tensor([1, 2, 3])).sum() },
      gradient(at: x) { (composedSoftmax($0) * Tensor([1, 2, 3])).sum() },
      gradient(at: matrix) { crossEntropy(logits: $0, labels: [1]) },
    ]
    for g in gradients {
      #expect(g.scalars.allSatisfy { $0.isFinite }, "\(g)")
    }
    #expect(gradients[0] == oneHot)
    #expect(gradients[5] == Tensor(shape: [1, 3], scalars: [1, -1, 0]))
  }
}

@Suite("The linear softmax classifier of seed 004")
struct ClassifierTests {
  /// The classifier's loss and dW by hand, vectorized: dW = Xᵀ(P − Y)/N + 2·reg·W.
  static func handWritten(w: Tensor, x: Tensor, labels: [Int], reg: Double) -> (Double, Tensor) {
    let (n, c) = (x.shape[0], w.shape[1])
    let p = softmax(matmul(x, w))
    let oneHot = Tensor(
      shape: [n, c], scalars: labels.flatMap { label in (0..<c).map { $0 == label ? 1.0 : 0 } })
    let probabilities = p.scalars
    let dataLoss =
      -labels.enumerated().map { log(probabilities[$0.offset * c + $0.element]) }
      .reduce(0, +) / Double(n)
    let loss = dataLoss + reg * (w * w).sum().scalar!
    let dW = matmul(x.transposed(), p - oneHot) / Double(n) + 2 * reg * w
    return (loss, dW)
  }

  @Test func autodiffMatchesTheHandWrittenGradient() {
    var generator = SeededGenerator(seed: 4)
    let (n, d, c, reg) = (8, 5, 10, 0.1)
    let x = Tensor.random([n, d], scale: 2, using: &generator)
    let w = Tensor.random([d, c], using: &generator)
    let labels = (0..<n).map { _ in Int.random(in: 0..<c, using: &generator) }
    let (value, dW) = valueWithGradient(at: w) { w in
      crossEntropy(logits: matmul(Variable(x), w), labels: labels) + reg * (w * w).sum()
    }
    let (expectedLoss, expectedDW) = Self.handWritten(w: w, x: x, labels: labels, reg: reg)
    #expect(abs(value.scalar! - expectedLoss) <= 1e-14)
    expectClose(dW, expectedDW, tolerance: 1e-15)
  }

  @Test("With tiny random weights and ten classes the loss is near −log(0.1)")
  func initialLossIsLogTen() {
    var generator = SeededGenerator(seed: 40)
    let (n, d, c) = (50, 30, 10)
    let x = Tensor.random([n, d], using: &generator)
    let w = Tensor.random([d, c], scale: 1e-4, using: &generator)
    let labels = (0..<n).map { _ in Int.random(in: 0..<c, using: &generator) }
    let loss = crossEntropy(logits: matmul(Variable(x), Variable(w)), labels: labels).value.scalar!
    #expect(abs(loss - -log(0.1)) < 1e-3, "loss \(loss)")
  }
}
