import Backprop
import Foundation
import Testing

// Custom operations with hand-written VJPs, checked against their composed twins; forward mode
// and Hessian-vector products against the full Jacobian and Hessian; many inputs; optimizers
// against steps computed by hand from PyTorch's update rules; checkpointing against the
// uncheckpointed gradient.

/// x³ with a VJP on tensors only: first order.
struct Cube: CustomOperation {
  let name = "cube"
  func forward(_ x: Tensor) -> Tensor { x * x * x }
  func pullback(_ cotangent: Tensor, input x: Tensor, output y: Tensor) -> Tensor {
    cotangent * 3 * x * x
  }
}

/// Layer normalization along the last axis, without scale and shift, fused: y = (x − μ)/σ̂
/// with σ̂ = √(var + ε). VJP: x̄ = (ȳ − mean ȳ − y · mean(ȳ ⊙ y)) / σ̂, per row.
struct LayerNormalization: RecordableCustomOperation {
  let name = "layerNorm"
  var epsilon = 1e-5
  /// For the tests of mistakes: drop the last term, or use the input where y belongs.
  var mistake: Mistake? = nil

  enum Mistake { case missingTerm, inputForOutput }

  func forward(_ x: Tensor) -> Tensor { composedLayerNormalization(Variable(x), epsilon).value }

  func pullback(_ cotangent: Variable, input x: Variable, output y: Variable) -> Variable {
    let last = x.shape.count - 1
    let centered = x - x.mean(alongAxes: last)
    let inverse = rsqrt((centered * centered).mean(alongAxes: last) + epsilon)
    let g = cotangent
    switch mistake {
    case .missingTerm: return inverse * (g - g.mean(alongAxes: last))
    case .inputForOutput:
      return inverse * (g - g.mean(alongAxes: last) - x * (g * x).mean(alongAxes: last))
    case nil: return inverse * (g - g.mean(alongAxes: last) - y * (g * y).mean(alongAxes: last))
    }
  }
}

/// Layer normalization composed of recorded primitives: the twin.
func composedLayerNormalization(_ x: Variable, _ epsilon: Double = 1e-5) -> Variable {
  let last = x.shape.count - 1
  let centered = x - x.mean(alongAxes: last)
  return centered * rsqrt(centered.variance(alongAxes: last) + epsilon)
}

/// The mean binary cross-entropy of logits against fixed labels, fused: one entry, with VJP
/// ȳ (σ(x) − y) / n.
struct SigmoidBinaryCrossEntropy: RecordableCustomOperation {
  let name = "sigmoidBCE"
  let labels: Tensor
  func forward(_ x: Tensor) -> Tensor {
    binaryCrossEntropy(logits: Variable(x), labels: labels).value
  }
  func pullback(_ cotangent: Variable, input x: Variable, output y: Variable) -> Variable {
    cotangent * (sigmoid(x) - Variable(labels)) / Double(labels.scalarCount)
  }
}

@Suite("Custom operations")
struct CustomOperationTests {
  @Test func aCustomOperationIsOneNamedEntry() {
    #expect(gradient(at: [1, 2]) { $0.applying(Cube()).sum() } == [3, 12])
    let tape = Tape()
    let x = tape.variable([1, 2])
    let y = x.applying(Cube()).sum()
    y.backward()
    #expect(x.grad == [3, 12])
    #expect(tape.description.contains("cube"))
    #expect(tape.graphviz().contains("cube"))
    #expect(y.backwardReplay().steps.map(\.op) == ["sum", "cube"])
    #expect(tape.cost.operations["cube"] == 1)
    #expect(checkGradient(at: [0.5, -1.5]) { $0.applying(Cube()).sum() }.passed)
    let report = checkCustomOperation(Cube(), against: { $0 * $0 * $0 }, at: [0.5, -1.5, 2])
    #expect(report.passed && report.hessianDifference == nil, "\(report)")
  }

  @Test func aFirstOrderOperationRefusesASecondDerivative() async {
    await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
      _ = hessian(at: [1, 2]) { $0.applying(Cube()).sum() }
    }
  }

  @Test("Fused layer normalization and sigmoid cross-entropy match their composed twins")
  func fusedOperationsMatchTheirTwins() {
    var generator = SeededGenerator(seed: 31)
    let x = Tensor.random([3, 5], in: -2...2, using: &generator)
    let layerNorm = checkCustomOperation(
      LayerNormalization(), against: { composedLayerNormalization($0) }, at: x)
    #expect(layerNorm.passed, "\(layerNorm)")
    #expect(layerNorm.hessianDifference != nil)
    let labels: Tensor = [1, 0, 1, 1, 0]
    let bce = checkCustomOperation(
      SigmoidBinaryCrossEntropy(labels: labels),
      against: { binaryCrossEntropy(logits: $0, labels: labels) }, at: [40, -3, 0.5, -800, 2])
    #expect(bce.passed, "\(bce)")
    // One entry instead of many.
    let fused = Tape()
    _ = fused.variable(x).applying(LayerNormalization())
    let composed = Tape()
    _ = composedLayerNormalization(composed.variable(x))
    #expect(fused.count == 2 && composed.count > 8)
  }

  @Test("The check catches the mistakes people make in hand-written VJPs")
  func mistakesAreCaught() {
    let x = Tensor([[0.5, -1, 2, 0.25]])
    for mistake in [LayerNormalization.Mistake.missingTerm, .inputForOutput] {
      let report = checkCustomOperation(
        LayerNormalization(mistake: mistake), against: { composedLayerNormalization($0) }, at: x)
      #expect(!report.passed, "\(mistake): \(report)")
      #expect(report.jacobianDifference > 0.01)
    }
    /// A transposed Jacobian: right on symmetric Jacobians only.
    struct TransposedCumulativeSum: CustomOperation {
      let name = "cumsum"
      func forward(_ x: Tensor) -> Tensor {
        var total = 0.0
        return x.map {
          total += $0
          return total
        }
      }
      // Jᵀȳ should sum the cotangent from the end; this sums from the start, as J ȳ would.
      func pullback(_ cotangent: Tensor, input x: Tensor, output y: Tensor) -> Tensor {
        forward(cotangent)
      }
    }
    let cumulative: (Variable) -> Variable = { x in
      concatenate((1...x.shape[0]).map { x[0..<$0].sum().reshaped(to: [1]) })
    }
    let report = checkCustomOperation(
      TransposedCumulativeSum(), against: cumulative, at: [1, 2, 3])
    #expect(!report.passed && report.valueDifference == 0, "\(report)")
  }
}

@Suite("Forward mode, Hessian-vector products, many inputs")
struct ForwardModeTests {
  static let f: @Sendable (Variable) -> Variable = { x in softmax(x) * tanh(x) + x.sum() * sin(x) }

  @Test func differentialsAreJacobianVectorProducts() {
    let x: Tensor = [0.5, -1, 2]
    let v: Tensor = [1, -2, 0.5]
    let j = jacobianReverse(at: x, of: Self.f)
    let expected = matmul(j, v)
    expectClose(differential(at: x, of: Self.f)(v), expected, tolerance: 1e-15)
    expectClose(jacobianForward(at: x, of: Self.f), j, tolerance: 1e-15)
    // jacobian(at:of:) picks forward mode for fewer inputs than outputs; both agree.
    let wide: (Variable) -> Variable = { x in (x.reshaped(to: [1, 2]) * Tensor([[1], [2], [3]])) }
    expectClose(
      jacobian(at: [1, 2], of: wide), jacobianReverse(at: [1, 2], of: wide), tolerance: 0)
    let (value, differentialOfWide) = valueWithDifferential(at: [1, 2], of: wide)
    #expect(value.shape == [3, 2] && differentialOfWide([1, 0]).shape == [3, 2])
  }

  @Test func hessianVectorProductsMatchTheHessian() {
    let g: (Variable) -> Variable = { x in logSumExp(x) + (sigmoid(x) * x * x).sum() }
    let x: Tensor = [0.5, -1, 2]
    let v: Tensor = [1, -2, 0.5]
    expectClose(
      hessianVectorProduct(at: x, v, of: g), matmul(hessian(at: x, of: g), v), tolerance: 1e-14)
    #expect(hessianVectorProduct(at: x, v) { $0.sum() } == .zeros([3]))
  }

  @Test func manyInputsAndDetached() {
    let w = Tensor([[0.5], [-1]])
    let b = Tensor([0.25])
    let x = Tensor([[1, 2], [3, 4]])
    let loss: ([Variable]) -> Variable = { p in
      let y = matmul(Variable(x), p[0]) + p[1]
      return (y * y).sum()
    }
    let many = gradient(at: [w, b], of: loss)
    let (gw, gb) = gradient(at: w, b) { loss([$0, $1]) }
    #expect(many == [gw, gb])
    let blocks = hessian(at: [w, b], of: loss)
    #expect(blocks[0][1].shape == [2, 1, 1] && blocks[1][0].shape == [1, 2, 1])
    expectClose(blocks[0][0], hessian(at: w) { loss([$0, Variable(b)]) }, tolerance: 1e-12)
    expectClose(blocks[0][1].reshaped(to: [2]), blocks[1][0].reshaped(to: [2]), tolerance: 1e-12)
    #expect(gradient(at: [1, 2]) { x in (x * x.detached()).sum() } == [1, 2])
  }
}

@Suite("Optimizers follow PyTorch's update rules")
struct OptimizerTests {
  @Test func sgdPlainMomentumNesterovAndWeightDecay() {
    var p: [Tensor] = [[1, -2]]
    var plain = SGD(learningRate: 0.1)
    plain.update(&p, along: [[0.5, 1]])
    #expect(p == [[0.95, -2.1]])
    // Momentum: b₁ = g₁, b₂ = μ b₁ + g₂.
    var q: [Tensor] = [[1]]
    var momentum = SGD(learningRate: 0.1, momentum: 0.9)
    momentum.update(&q, along: [[1]])
    momentum.update(&q, along: [[2]])
    #expect(q[0].scalars[0] == 1 - 0.1 * 1 - 0.1 * (0.9 * 1 + 2))
    // Nesterov: g + μ b.
    var r: [Tensor] = [[1]]
    var nesterov = SGD(learningRate: 0.1, momentum: 0.9, nesterov: true)
    nesterov.update(&r, along: [[1]])
    #expect(r[0].scalars[0] == 1 - 0.1 * (1 + 0.9 * 1))
    // Weight decay: g + λ θ.
    var s: [Tensor] = [[2]]
    var decay = SGD(learningRate: 0.1, weightDecay: 0.5)
    decay.update(&s, along: [[1]])
    #expect(s[0].scalars[0] == 2 - 0.1 * (1 + 0.5 * 2))
  }

  @Test func adamMatchesItsRuleForThreeSteps() {
    var p: [Tensor] = [[1, -1]]
    var adam = Adam(learningRate: 0.01, weightDecay: 0.1)
    var (m, v, theta) = ([0.0, 0.0], [0.0, 0.0], [1.0, -1.0])
    for (t, raw) in [[0.5, -2.0], [0.25, 1.0], [-1.0, 0.5]].enumerated() {
      adam.update(&p, along: [Tensor(raw)])
      for i in 0..<2 {
        let g = raw[i] + 0.1 * theta[i]
        m[i] = 0.9 * m[i] + (1 - 0.9) * g
        v[i] = 0.999 * v[i] + (1 - 0.999) * g * g
        let mHat = m[i] / (1 - Foundation.pow(0.9, Double(t + 1)))
        let vHat = v[i] / (1 - Foundation.pow(0.999, Double(t + 1)))
        theta[i] -= 0.01 * mHat / (vHat.squareRoot() + 1e-8)
      }
      expectClose(p[0], Tensor(theta), tolerance: 1e-16)
    }
    #expect(adam.step == 3)
  }

  @Test func aTrainingStepIsAFewLines() {
    var generator = SeededGenerator(seed: 5)
    let x = Tensor.random([32, 3], in: -1...1, using: &generator)
    let truth = Tensor([[1], [-2], [0.5]])
    let y = matmul(x, truth)
    var parameters: [Tensor] = [.zeros([3, 1])]
    var optimizer = Adam(learningRate: 0.1)
    for _ in 0..<300 {
      let gradients = gradient(at: parameters) { p in
        meanSquaredError(predicted: matmul(Variable(x), p[0]), expected: y)
      }
      optimizer.update(&parameters, along: gradients)
    }
    expectClose(parameters[0], truth, tolerance: 1e-3)
  }
}

@Suite("Checkpointing")
struct CheckpointingTests {
  @Test func aCheckpointedChainHasTheSameGradientBitForBit() {
    let step: (Variable) -> Variable = { y in tanh(1.01 * y + 0.1) * Tensor([1, 0.5, 2]) }
    let segment = checkpointed { y in (0..<10).reduce(y) { y, _ in step(y) } }
    let x: Tensor = [0.3, -0.2, 0.9]
    let plain = gradient(at: x) { x in (0..<100).reduce(x) { y, _ in step(y) }.sum() }
    let checkpointedGradient = gradient(at: x) { x in
      (0..<10).reduce(x) { y, _ in segment(y) }.sum()
    }
    #expect(plain.scalars.map(\.bitPattern) == checkpointedGradient.scalars.map(\.bitPattern))
    // The tape keeps 10 entries for the segments, not 500 for the steps.
    let tape = Tape()
    _ = (0..<10).reduce(tape.variable(x)) { y, _ in segment(y) }
    #expect(tape.count == 11)
  }

  @Test func hessiansThroughACheckpointAreExact() {
    let region = checkpointed { x in sin(x) * exp(0.5 * x) }
    let f: (Variable) -> Variable = { x in (region(x) * region(x * x)).sum() }
    let g: (Variable) -> Variable = { x in
      ((sin(x) * exp(0.5 * x)) * (sin(x * x) * exp(0.5 * x * x))).sum()
    }
    let x: Tensor = [0.3, -0.7]
    expectClose(hessian(at: x, of: f), hessian(at: x, of: g), tolerance: 1e-14)
    expectClose(gradient(at: x, of: f), gradient(at: x, of: g), tolerance: 1e-15)
  }
}

@Suite("The new operators at their edges: aliasing, constants, empty selections")
struct NewOperatorEdgeTests {
  @Test func aliasingAndConstants() {
    #expect(differential(at: [1, 2]) { $0 }([5, 6]) == [5, 6])
    #expect(differential(at: Tensor(2)) { $0 * $0 }(Tensor(1)) == Tensor(4))
    #expect(differential(at: [1, 2]) { _ in Variable([3]) }([1, 1]) == [0])
    let identity = checkpointed { $0 }
    #expect(gradient(at: [1, 2]) { identity($0).sum() } == [1, 1])
    #expect(
      hessian(at: [1, 2]) { (identity($0) * identity($0)).sum() } == Tensor([[2, 0], [0, 2]]))
    let constant = checkpointed { _ in Variable([1, 1]) }
    #expect(gradient(at: [1, 2]) { constant($0).sum() } == [0, 0])
    let blocks = hessian(at: [Tensor([1, 2]), Tensor(3)]) { p in (p[0] * p[0]).sum() }
    #expect(blocks[1][1] == Tensor(0) && blocks[0][1] == .zeros([2]))
    var none: [Tensor] = []
    var optimizer = SGD(learningRate: 0.1, momentum: 0.9)
    optimizer.update(&none, along: [])
    #expect(none.isEmpty)
  }

  @Test func emptySelectionsHaveZeroGradients() {
    #expect(gradient(at: [1, 2]) { $0.gathering(atIndices: []).sum() } == [0, 0])
    #expect(gradient(at: [1, 2]) { $0[1..<1].sum() } == [0, 0])
    #expect(Tensor([1, 2, 3])[0..<0].shape == [0])
    #expect(concatenate([Variable([1, 2])]).value == [1, 2])
  }
}
