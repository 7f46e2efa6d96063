import Backprop

func secondDerivatives(_ lesson: inout Lesson) {
  lesson.say(
    """
    Every VJP in Backprop is written in operations the tape can record. Ask for a gradient as
    a Variable and the backward pass is recorded as more entries on the same tape. Then
    differentiate those entries like any others: reverse over reverse. The result is exact to
    rounding, not a finite difference.
    """)
  let tape = Tape()
  let x = tape.variable([1, 2, 3])
  let y = logSumExp(x)
  let before = tape.count
  let g = gradient(of: y, wrt: x)
  lesson.say(
    "\n  logSumExp recorded \(before) entries; its gradient added \(tape.count - before) more.")
  lesson.say("  ∇ logSumExp(x) = \(show(g.value)) = softmax(x)")
  lesson.check(
    "the recorded gradient is softmax(x)",
    g.value.maxAbsoluteDifference(from: softmax(Tensor([1, 2, 3]))) <= 1e-15)
  lesson.check("it lives on the same tape, ready to be differentiated", g.tape === tape)

  let cube = Tape()
  let s = cube.variable(Tensor(2))
  let first = gradient(of: pow(s, 3), wrt: s)
  let second = gradient(of: first, wrt: s)
  let third = cube.gradient(of: second, wrt: s)
  lesson.say(
    "\n  d/ds s³ = 3s² = \(show(first.value)),  d²/ds² = 6s = \(show(second.value)),  d³/ds³ = 6 = \(show(third))  at s = 2"
  )
  lesson.check(
    "three derivatives of s³ at 2 are 12, 12 and 6",
    first.value == Tensor(12) && second.value == Tensor(12) && third == Tensor(6))

  let point: Tensor = [1, 2, 3]
  let h = hessian(at: point) { logSumExp($0) }
  let j = softmaxJacobian(at: point)
  lesson.say(
    """

    The Hessian of logSumExp is the Jacobian of its gradient, softmax: diag(s) − s sᵀ.
      hessian(logSumExp) at \(show(point)) = \(show(h))
    """)
  lesson.check("it equals the softmax Jacobian to 1e-15", h.maxAbsoluteDifference(from: j) <= 1e-15)
  lesson.check("it is symmetric", h.maxAbsoluteDifference(from: h.transposed()) <= 1e-16)
  let numerical = numericalJacobian(at: point) { x in
    Variable(gradient(at: x.value) { logSumExp($0) })
  }
  lesson.check(
    "central differences of the gradient agree to 1e-9",
    h.maxAbsoluteDifference(from: numerical) <= 1e-9)
}
