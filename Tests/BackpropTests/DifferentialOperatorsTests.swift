import Backprop
import Testing

@Suite("Differential operators")
struct DifferentialOperatorsTests {
  @Test func gradientAndValueWithGradient() {
    let x: Tensor = [1, 2, 3]
    let (value, g) = valueWithGradient(at: x) { ($0 * $0).sum() }
    #expect(value == Tensor(14) && g == [2, 4, 6])
    #expect(gradient(at: x) { ($0 * $0).sum() } == g)
    // A function that ignores its input has a zero gradient, not a crash.
    #expect(gradient(at: x) { _ in Variable(3) } == [0, 0, 0])
    // A result of shape [1] counts as a scalar.
    #expect(gradient(at: x) { $0.sum().reshaped(to: [1]) } == [1, 1, 1])
  }

  @Test func pullbackIsAVectorJacobianProductLinearInItsSeed() {
    let x: Tensor = [0.5, -1, 2]
    let (value, vjp) = valueWithPullback(at: x) { x in x * x * Tensor([1, 2, 3]) }
    #expect(value == [0.25, 2, 12])
    #expect(vjp([1, 0, 0]) == [1, 0, 0])
    #expect(vjp([1, 1, 1]) == [1, -4, 12])
    let u: Tensor = [0.3, -2, 1.5]
    let v: Tensor = [1, 4, -0.5]
    expectClose(vjp(2 * u + 3 * v), 2 * vjp(u) + 3 * vjp(v), tolerance: 1e-14)
    #expect(pullback(at: x, of: softmax)(.ones([3])).scalars.allSatisfy { abs($0) < 1e-16 })
  }

  @Test func jacobianHasShapeOutputPlusInput() {
    let x: Tensor = [1, 2, 3]
    #expect(jacobian(at: x) { $0 * $0 } == Tensor([[2, 0, 0], [0, 4, 0], [0, 0, 6]]))
    let m = Tensor([[1, 2], [3, 4]])
    let j = jacobian(at: m) { $0.transposed() }
    #expect(j.shape == [2, 2, 2, 2])
    #expect(j[0, 1, 1, 0] == 1 && j[0, 1, 0, 1] == 0)
    #expect(jacobian(at: x) { $0.sum() } == [1, 1, 1])
    // Rows reuse one seed, whose 1 moves along in place. Where a VJP hands the cotangent on
    // unchanged (add passes it to both operands), every row must still be its own.
    #expect(jacobian(at: x) { $0 + 1 } == Tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1]]))
    #expect(jacobian(at: x) { ($0 + $0).reshaped(to: [3]) } == 2 * jacobian(at: x) { $0 + 0 })
    expectClose(
      jacobian(at: x) { tanh($0) * $0.sum() }, numericalJacobian(at: x) { tanh($0) * $0.sum() },
      tolerance: 1e-8)
  }

  @Test func twoInputs() {
    let (value, (gx, gw)) = valueWithGradient(at: [1, 2], [3, 4]) { x, w in (x * w).sum() }
    #expect(value == Tensor(11) && gx == [3, 4] && gw == [1, 2])
  }

  @Test("hessian(logSumExp) is the softmax Jacobian")
  func hessianOfLogSumExp() {
    for x: Tensor in [[1, 2], [0.5, -1, 2, 0], [1000, 0, -1000], [3, 3, 1]] {
      expectClose(hessian(at: x) { logSumExp($0) }, softmaxJacobian(at: x), tolerance: 1e-15)
    }
  }

  @Test("A polynomial's Hessian, exact: f = x₀²x₁ + x₁³ + 3x₀x₁")
  func polynomialHessian() {
    let x: Tensor = [1.5, -2]
    let h = hessian(at: x) { v in
      let (a, b) = (v[0], v[1])
      return a * a * b + pow(b, 3) + 3 * a * b
    }
    let (a, b) = (1.5, -2.0)
    #expect(h == Tensor([[2 * b, 2 * a + 3], [2 * a + 3, 6 * b]]))
  }

  @Test("The Hessian of a product of two inputs, and of a quadratic form")
  func productHessian() {
    #expect(hessian(at: [2, 5]) { $0[0] * $0[1] } == Tensor([[0, 1], [1, 0]]))
    let a = Tensor([[2, 1], [1, 3]])
    // f = xᵀAx / 2 has Hessian A (symmetric A).
    let h = hessian(at: [1, -1]) { x in
      (matmul(x.reshaped(to: [1, 2]), matmul(Variable(a), x.reshaped(to: [2, 1]))) / 2).sum()
    }
    #expect(h == a)
  }

  @Test(
    "Hessians match finite differences of the gradient and are symmetric",
    arguments: 0..<6)
  func hessiansMatchFiniteDifferences(function: Int) {
    var generator = SeededGenerator(seed: UInt64(100 + function))
    let x = Tensor.random([4], using: &generator)
    let w = Tensor.random([4, 4], using: &generator)
    let functions: [(Variable) -> Variable] = [
      { x in (softmax(x) * log(softmax(x))).sum() },
      { x in (composedSoftmax(x) * Tensor([1, 2, 3, 4])).sum() },
      { x in tanh(matmul(Variable(w), x.reshaped(to: [4, 1]))).sum() },
      { x in (sqrt(x * x + 1) / (x.sum() * x.sum() + 2)).sum() },
      { x in crossEntropy(logits: x.reshaped(to: [2, 2]), labels: [1, 0]) },
      { x in (max(x, x.max() * 0.5) * exp(x)).mean() + pow(x, 3).sum() + sigmoid(x).sum() },
    ]
    let f = functions[function]
    let h = hessian(at: x, of: f)
    // The gradient as an ordinary function of x, differenced by central differences.
    let numerical = numericalJacobian(at: x) { x in Variable(gradient(at: x.value, of: f)) }
    expectClose(h, numerical, tolerance: 1e-6)
    expectClose(h, h.transposed(), tolerance: 1e-14, "symmetry")
  }
}
