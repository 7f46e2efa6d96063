import Backprop
import Foundation

/// Layer normalization along the last axis, fused into one entry, with its VJP written by hand:
/// y = (x − μ) / σ̂ with σ̂ = √(var x + ε), and x̄ = (ȳ − mean ȳ − y · mean(ȳ ⊙ y)) / σ̂.
///
/// `version` selects the VJP: the correct one, or the mistake the lesson makes.
struct FusedLayerNorm: RecordableCustomOperation {
  enum Version { case missingTerm, correct }

  let name = "layerNorm"
  let version: Version
  let epsilon = 1e-5

  func forward(_ x: Tensor) -> Tensor { composedLayerNorm(Variable(x)).value }

  func pullback(_ g: Variable, input x: Variable, output y: Variable) -> Variable {
    let last = x.shape.count - 1
    let centered = x - x.mean(alongAxes: last)
    let scale = rsqrt(centered.variance(alongAxes: last) + epsilon)
    switch version {
    case .missingTerm:
      // Forgets that σ̂ depends on x too: only the mean's share is subtracted.
      return scale * (g - g.mean(alongAxes: last))
    case .correct:
      return scale * (g - g.mean(alongAxes: last) - y * (g * y).mean(alongAxes: last))
    }
  }
}

/// The running sum yᵢ = x₀ + … + xᵢ along a vector, fused. Its Jacobian is lower triangular
/// (ones on and below the diagonal), so Jᵀȳ sums the cotangent from the end: x̄ᵢ = ȳᵢ + … + ȳₙ₋₁.
/// `transposed` makes the classic mistake of applying J instead, a running sum from the start.
struct RunningSum: CustomOperation {
  let name = "runningSum"
  let transposed: Bool

  func forward(_ x: Tensor) -> Tensor {
    var total = 0.0
    return x.map { value in
      total += value
      return total
    }
  }

  func pullback(_ cotangent: Tensor, input x: Tensor, output y: Tensor) -> Tensor {
    if transposed { return forward(cotangent) }  // J ȳ: wrong
    let fromTheEnd = Tensor(cotangent.scalars.reversed())
    return Tensor(forward(fromTheEnd).scalars.reversed())  // Jᵀȳ
  }
}

/// The running sum composed: each entry a slice summed.
func composedRunningSum(_ x: Variable) -> Variable {
  concatenate((1...x.shape[0]).map { x[0..<$0].sum().reshaped(to: [1]) })
}

/// The same function from recorded primitives: mean, subtract, variance, rsqrt, multiply.
func composedLayerNorm(_ x: Variable) -> Variable {
  let last = x.shape.count - 1
  let centered = x - x.mean(alongAxes: last)
  return centered * rsqrt(centered.variance(alongAxes: last) + 1e-5)
}

func customOperation(_ lesson: inout Lesson) {
  lesson.say(
    """
    Softmax is fused because its VJP is cheaper written by hand than composed. You can do the
    same for an operation of your own: conform to CustomOperation (a VJP on tensors) or
    RecordableCustomOperation (a VJP on variables, so Hessians work), and apply it with
    x.applying(op). Here: layer normalization, y = (x − μ)/σ̂ along each row. Its composed form
    records about a dozen entries; the fused one records one.

    """)
  let x = Tensor([[0.5, -1, 2, 0.25], [3, 1, -2, 0]])
  let fusedTape = Tape()
  _ = fusedTape.variable(x).applying(FusedLayerNorm(version: .correct))
  let composedTape = Tape()
  _ = composedLayerNorm(composedTape.variable(x))
  lesson.say("  fused:    \(fusedTape.cost)\n  composed: \(composedTape.cost)")
  lesson.check("the fused form is one entry after the input", fusedTape.count == 2)
  lesson.check(
    "the composed form records \(composedTape.count) entries", composedTape.count > 8)

  lesson.say(
    """

    Deriving the VJP: with x̂ = (x − μ)/σ̂, the Jacobian of a row is
    (I − 1·1ᵀ/n − y yᵀ/n) / σ̂, symmetric, so x̄ = Jᵀȳ = (ȳ − mean ȳ − y·mean(ȳ ⊙ y)) / σ̂.
    Mistakes are easy to make. checkCustomOperation compares an operation with a composed
    definition in one call: values, Jacobians, VJPs on random cotangents, and Hessians.

    """)
  let composed: (Variable) -> Variable = { composedLayerNorm($0) }
  let missing = checkCustomOperation(
    FusedLayerNorm(version: .missingTerm), against: composed, at: x)
  lesson.say(
    """
    1. Forgetting that σ̂ depends on x: dropping the − y·mean(ȳ ⊙ y) term.
       \(missing)
    """)
  lesson.check("the check catches the missing term", !missing.passed)
  lesson.check("the values agree; only the derivative is wrong", missing.valueDifference < 1e-12)

  lesson.say(
    """

    2. Transposing the Jacobian: computing J ȳ where the VJP is Jᵀȳ. Layer normalization
       cannot show this mistake, because its Jacobian is symmetric; a running sum can. Its
       Jacobian is lower triangular, so Jᵀȳ sums the cotangent from the end, and J ȳ from the
       start. Checked against the running sum composed of slices:
    """)
  let runningTransposed = checkCustomOperation(
    RunningSum(transposed: true), against: composedRunningSum, at: [1, 2, 3, 4])
  let runningCorrect = checkCustomOperation(
    RunningSum(transposed: false), against: composedRunningSum, at: [1, 2, 3, 4])
  lesson.say("   J ȳ:  \(runningTransposed)\n   Jᵀȳ: \(runningCorrect)")
  lesson.check("the check catches the transposed Jacobian", !runningTransposed.passed)
  lesson.check(
    "the transposed Jacobian's largest error is a whole entry",
    runningTransposed.jacobianDifference == 1)
  lesson.check(
    "Jᵀȳ passes (its VJP is on tensors, so no Hessian is checked)",
    runningCorrect.passed && runningCorrect.hessianDifference == nil)

  let correct = checkCustomOperation(FusedLayerNorm(version: .correct), against: composed, at: x)
  lesson.say(
    """

    3. Layer normalization's derivation above, written out.
       \(correct)
    """)
  lesson.check("the correct VJP passes, Jacobians and VJPs included", correct.passed)
  lesson.check(
    "and, being recordable, its Hessians agree too",
    (correct.hessianDifference ?? .infinity) < 1e-9)
  let gradientCheck = checkGradient(at: x) { x in
    (x.applying(FusedLayerNorm(version: .correct)) * Tensor([[1, -2, 0.5, 3], [0, 1, 1, -1]])).sum()
  }
  lesson.check("it also passes a gradient check against central differences", gradientCheck.passed)

  lesson.say(
    """

    On the tape it is one entry under its own name:
    """)
  let tape = Tape()
  let input = tape.variable(x)
  input.applying(FusedLayerNorm(version: .correct)).sum().backward()
  lesson.say(tape.description.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
  lesson.check("the listing names it layerNorm", tape.description.contains("layerNorm"))
}
