import Backprop

/// The fused softmax (one entry) against the composed one (five), by Jacobian and by cost.
func fusedAgainstComposed(_ lesson: inout Lesson) {
  lesson.say(
    """
    composedSoftmax records what you would write by hand:
      m = max(x),  z = x − m,  e = exp(z),  t = Σ e,  s = e / t
    softmax records one entry whose VJP is s ⊙ (g − ⟨g, s⟩). Their Jacobians must agree:

    """)
  // The last point is large but not saturated: at [1000, 0, −1000] both Jacobians are all zeros
  // and agreeing would show nothing; at [1000, 1001, 999.5] every entry is far from zero.
  for x: Tensor in [[1, 2, 3], [2, 2, 1], [1000, 1001, 999.5]] {
    let comparison = compareJacobians(at: x, softmax, composedSoftmax)
    lesson.say("  at \(show(x)): fused \(show(comparison.first))")
    lesson.say(
      "  \(String(repeating: " ", count: show(x).count + 4))composed \(show(comparison.second))")
    lesson.check(
      "they agree to \(show(comparison.maxAbsoluteDifference)) ≤ 1e-12, and no entry is near 0",
      comparison.maxAbsoluteDifference <= 1e-12
        && comparison.first.scalars.allSatisfy { abs($0) > 0.01 })
  }
  lesson.say(
    """

    Why may the composed form let the gradient flow through m = max(x), even at a tie?
    Subtracting m moves every input by the same amount, and softmax ignores that: J·1 = 0.
    So whatever arrives at m is Σ of the adjoints of z, which is ⟨g, J·1⟩ = 0. The replay shows
    it: the adjoint of the max entry (#1) is zero, to rounding.

    """)
  let tape = Tape()
  let x = tape.variable([2, 2, 1])
  let y = (composedSoftmax(x) * Tensor([1, -2, 0.5])).sum()
  y.backward()
  lesson.say(
    tape.description.split(separator: "\n").prefix(4).map { "  " + $0 }.joined(separator: "\n"))
  let maxAdjoint = tape[1].adjoint!.scalars[0]
  // "To rounding": the bound on the rounding error of a sum of n terms, n ε Σ|z̄ᵢ|.
  let terms = tape[2].adjoint!.scalars
  let roundingBound = Double(terms.count) * Double.ulpOfOne * terms.map(\.magnitude).reduce(0, +)
  lesson.check(
    "the adjoint of the max is 0 to rounding (\(show(maxAdjoint)), within n ε Σ|z̄ᵢ| = "
      + "\(show(roundingBound)))", abs(maxAdjoint) <= roundingBound)

  let fused = Tape()
  _ = softmax(fused.variable([1, 2, 3]))
  let composed = Tape()
  _ = composedSoftmax(composed.variable([1, 2, 3]))
  lesson.say("\nThe cost of each tape, for a vector of three:")
  lesson.say("  fused:    \(fused.cost)")
  lesson.say("  composed: \(composed.cost)")
  lesson.check(
    "the fused tape has 2 entries (input, softmax); the composed one 6",
    fused.cost.entries == 2 && composed.cost.entries == 6)
  lesson.check("the fused tape holds fewer bytes", fused.cost.bytes < composed.cost.bytes)
}
