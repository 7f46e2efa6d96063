import Backprop
import Foundation

/// The reverse sweep of a small vector function, replayed one entry at a time.
func reverseSweep(_ lesson: inout Lesson) {
  lesson.say(
    """
    f(x, w) = Σ (tanh(x·w) + x) with x = [1, 2] and w = 3. The sweep visits the entries from
    the last to the first. At each one it applies that entry's vector-Jacobian product and adds
    the result into the adjoints of its operands. The table shows every adjoint after each
    step; · means nothing has arrived yet.

    """)
  let tape = Tape()
  let x = tape.variable([1, 2])
  let w = tape.variable(Tensor(3))
  let y = (tanh(x * w) + x).sum()
  let replay = y.backwardReplay()
  lesson.say(replay.description.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
  lesson.say(
    """

    Read the rows top to bottom:
      1. sum sends its adjoint 1 to every element of its operand (#4).
      2. add passes [1, 1] to both operands: to tanh's output (#3) and to x (#0).
      3. tanh multiplies by 1 − tanh², tiny here because tanh(3) and tanh(6) are close to 1.
      4. multiply sends ȳ·w to x, added to what x already had, and Σ ȳ·x to w (broadcast
         back to a scalar).
    """)
  y.backward()
  let last = replay.steps.last!.adjoints
  lesson.check(
    "the sweep takes one step per operation, last to first",
    replay.steps.map(\.entry) == [5, 4, 3, 2])
  lesson.check(
    "after the last step the adjoints are the gradients backward() gives",
    last[0] == x.grad && last[1] == w.grad)
  var onlyOperandsChange = true
  var previous = replay.seed
  for step in replay.steps {
    let entry = tape[step.entry]
    for index in previous.indices where previous[index] != step.adjoints[index] {
      if !entry.inputs.contains(index) { onlyOperandsChange = false }
    }
    previous = step.adjoints
  }
  lesson.check("each step changes only the adjoints of that entry's operands", onlyOperandsChange)
  let t = Foundation.tanh(3.0)
  let xGrad = 1 + 3 * (1 - t * t)
  lesson.check(
    "∂f/∂x₀ = 1 + w (1 − tanh²(x₀w)) = \(show(xGrad))", abs(x.grad![[0]] - xGrad) <= 1e-15)
}
