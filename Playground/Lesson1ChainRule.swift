import Backprop
import Foundation

/// f(a, b) = tanh(a·b + a), differentiated twice: once by hand, once by the tape.
func chainRule(_ lesson: inout Lesson) {
  let (a, b) = (0.5, -1.2)
  lesson.say(
    """
    Take f(a, b) = tanh(a·b + a) at a = \(a), b = \(b). Name every intermediate value, as a
    Wengert list does:  u = a·b,  v = u + a,  f = tanh(v).

    Forward, left to right:
    """)
  let u = a * b
  let v = u + a
  let f = Foundation.tanh(v)
  lesson.say("  u = \(show(u)),  v = \(show(v)),  f = \(show(f))")
  lesson.say(
    """

    Backward, right to left. Each step multiplies the adjoint it receives by a local
    derivative, and an input used twice (a) adds up both contributions:
      f̄ = 1
      v̄ = f̄ · (1 − f²)            tanh′(v) = 1 − tanh²(v), reusing the forward value f
      ū = v̄ · 1                    v = u + a
      ā = v̄ · 1 + ū · b            a feeds v directly and through u
      b̄ = ū · a
    """)
  let vBar = 1 - f * f
  let uBar = vBar
  let aBar = vBar + uBar * b
  let bBar = uBar * a
  lesson.say("  v̄ = \(show(vBar)),  ū = \(show(uBar)),  ā = \(show(aBar)),  b̄ = \(show(bBar))")

  lesson.say("\nThe tape does the same, recording one entry per operation:")
  let tape = Tape()
  let aVariable = tape.variable(Tensor(a))
  let bVariable = tape.variable(Tensor(b))
  let y = tanh(aVariable * bVariable + aVariable)
  y.backward()
  lesson.say(tape.description.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
  lesson.say("")
  lesson.check("the tape's value equals the hand-computed f", y.value.scalar == f)
  lesson.check(
    "the tape's ∂f/∂a equals the hand-computed ā (\(show(aBar)))",
    abs(aVariable.grad!.scalar! - aBar) <= 1e-15)
  lesson.check(
    "the tape's ∂f/∂b equals the hand-computed b̄ (\(show(bBar)))",
    abs(bVariable.grad!.scalar! - bBar) <= 1e-15)
  let numeric =
    (Foundation.tanh((a + 1e-6) * b + a + 1e-6) - Foundation.tanh((a - 1e-6) * b + a - 1e-6)) / 2e-6
  lesson.check("a central difference agrees with ā to 1e-9", abs(numeric - aBar) <= 1e-9)
}
