import Backprop
import Testing

@Suite("Gradient checking")
struct GradientCheckingTests {
  @Test func aCorrectGradientPasses() {
    let report = checkGradient(at: [0.5, -1, 2]) { x in (softmax(x) * log(softmax(x))).sum() }
    #expect(report.passed)
    #expect(report.maxAbsoluteError < 1e-8)
    #expect(report.worstIndex.count == 1)
    #expect(report.description.hasPrefix("gradient check passed"))
  }

  /// Softmax whose recorded derivative is only the diagonal of its Jacobian, s ⊙ (1 − s): the
  /// mistake in seed 000. The forward value is right, so only a gradient check can tell.
  static func diagonalOnlySoftmax(_ x: Variable) -> Variable {
    let s = softmax(x.value)
    let diagonal = s * (1 - s)
    // Value s, derivative diag(s(1 − s)): x − x.value is zero but carries the derivative.
    return Variable(s) + (x - Variable(x.value)) * diagonal
  }

  @Test("The diagonal-only softmax derivative fails the check")
  func diagonalOnlyDerivativeFails() {
    let x: Tensor = [0.2, -0.4, 1.1]
    let loss: (Variable) -> Variable = { ($0 * Tensor([1, -2, 0.5])).sum() }
    #expect(checkGradient(at: x) { loss(softmax($0)) }.passed)
    let wrong = checkGradient(at: x) { loss(Self.diagonalOnlySoftmax($0)) }
    #expect(!wrong.passed)
    #expect(wrong.maxRelativeError > 0.01)
    #expect(wrong.description.hasPrefix("gradient check FAILED"))
  }

  @Test func theReportNamesTheWorstEntry() {
    // Only entry [1, 0] has a wrong derivative: the function adds (x − x.value) · 5 there.
    let x = Tensor([[1, 2], [3, 4]])
    let mask = Tensor([[0, 0], [5, 0]])
    let report = checkGradient(at: x) { x in (x * x).sum() + ((x - Variable(x.value)) * mask).sum()
    }
    #expect(!report.passed)
    #expect(report.worstIndex == [1, 0])
    #expect(abs(report.maxAbsoluteError - 5) < 1e-6)
  }

  @Test("Tolerances are PyTorch's by default and configurable")
  func tolerancesAreConfigurable() {
    let x: Tensor = [1, 2]
    // The recorded derivative is off by `error` at every entry; the true one is 2x.
    func check(error: Double, absolute: Double = 1e-5, relative: Double = 1e-3) -> Bool {
      checkGradient(at: x, absoluteTolerance: absolute, relativeTolerance: relative) { x in
        (x * x).sum() + ((x - Variable(x.value)) * error).sum()
      }.passed
    }
    // The default allows 1e-5 + 1e-3 · |n|: 2.01e-3 at the entry where n = 2, 1.01e-3 at n = 1.
    #expect(check(error: 1e-4))
    #expect(!check(error: 0.01))
    #expect(check(error: 0.01, absolute: 0.02))
    #expect(check(error: 0.01, relative: 0.011))
    #expect(!check(error: 1e-4, absolute: 0, relative: 0))
  }

  @Test func aNaNGradientFailsAndReportsNaN() {
    let report = checkGradient(at: [1000, 0]) { x in (exp(x) / exp(x).sum()).sum() }
    #expect(!report.passed)
    #expect(report.maxAbsoluteError.isNaN && report.maxRelativeError.isNaN)
  }

  @Test func compareJacobiansReportsTheWorstEntry() {
    let comparison = compareJacobians(at: [1, 2, 3], { $0 * 2 }, { $0 * Tensor([2, 2, 2.5]) })
    #expect(comparison.maxAbsoluteDifference == 0.5)
    #expect(comparison.worstIndex == [2, 2])
    #expect(comparison.difference.shape == [3, 3])
  }
}
