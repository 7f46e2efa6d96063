import Backprop
import Testing

/// A gradient check that cannot decide an entry says so and says why, for the right entry;
/// one that can decide it still fails a wrong derivative.
@Suite("Gradient-check verdicts name the cause and the entry")
struct GradientCheckVerdictTests {
  typealias Undecided = GradientCheckReport.Undecided

  @Test("Rounding: e¹'s change is below e⁷⁰⁰'s rounding, so entry [1] is undecided by rounding")
  func rounding() {
    let report = checkGradient(at: [700, 1]) { exp($0).sum() }
    #expect(report.verdict == .inconclusive)
    #expect(report.undecided == [Undecided(index: [1], cause: .rounding)])
    #expect(report.description.contains("cannot decide entry [1]: rounding"))
  }

  @Test("A non-finite input has no step; the entries beside it meet a non-finite value")
  func nonFiniteInput() {
    let report = checkGradient(at: [1, .nan]) { $0.sum() }
    #expect(report.verdict == .inconclusive)
    #expect(
      report.undecided == [
        Undecided(index: [0], cause: .nonFiniteValue),
        Undecided(index: [1], cause: .nonFiniteInput),
      ])
    let scalar = checkGradient(at: Tensor(.infinity)) { $0 * 2 }
    #expect(scalar.undecided == [Undecided(index: [], cause: .nonFiniteInput)])
    #expect(
      scalar.undecidedSummary == "the scalar: the input is not finite, so no step can be taken")
  }

  @Test("A step that overflows next to the largest Double; beside it, rounding")
  func nonFiniteStep() {
    let report = checkGradient(at: [1, .greatestFiniteMagnitude]) { $0.sum() }
    #expect(
      report.undecided == [
        Undecided(index: [0], cause: .rounding), Undecided(index: [1], cause: .nonFiniteStep),
      ])
  }

  @Test("A kink: relu at 0 and within a step of 0 is inconclusive, not FAILED")
  func kink() {
    let report = checkGradient(at: [0, 1e-7, -2, 3]) { relu($0).sum() }
    #expect(report.verdict == .inconclusive)
    #expect(report.undecided.map(\.index) == [[0], [1]])
    #expect(report.undecided.allSatisfy { $0.cause == .kink })
    // leakyRelu at 0: slopes 0.01 and 1, the gradient 0.01 (the x ≤ 0 side) between them.
    // (abs at 0 passes: its central difference is 0, its gradient sign(0) = 0.)
    #expect(checkGradient(at: [0]) { leakyRelu($0).sum() }.undecided.map(\.cause) == [.kink])
    #expect(checkGradient(at: [0]) { abs($0).sum() }.passed)
  }

  @Test("A gradient outside the one-sided slopes at a kink fails: it is no subgradient")
  func wrongAtAKink() {
    // The value is relu(x); the recorded gradient is relu′ + 2 = 2, outside [0, 1].
    let report = checkGradient(at: [0]) { x in (relu(x) + 2 * x - 2 * Variable(x.value)).sum() }
    #expect(report.verdict == .failed, "\(report)")
    #expect(report.undecided.isEmpty)
  }

  @Test("A step too long: softmax saturates within one step of 1e300")
  func stepTooLong() {
    let report = checkGradient(at: [1e300, 1e300, 0]) { (softmax($0) * Tensor([1, 2, 3])).sum() }
    #expect(report.verdict == .inconclusive)
    #expect(report.undecided.map(\.cause) == [.stepTooLong, .stepTooLong])
    #expect(report.undecided.map(\.index) == [[0], [1]])
  }

  @Test("A smooth function's wrong derivative still fails, and a right one passes")
  func decided() {
    #expect(checkGradient(at: [0.5, -2]) { x in (x * Variable(x.value)).sum() }.verdict == .failed)
    #expect(checkGradient(at: [0.5, -2]) { x in (x * x).sum() }.verdict == .passed)
  }
}
