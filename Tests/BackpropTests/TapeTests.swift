import Backprop
import Foundation
import Testing

@Suite("Tape")
struct TapeTests {
  @Test func theDocumentedWalkthrough() {
    let tape = Tape()
    let a = tape.variable([1, 2, 3])
    let y = logSumExp(a)
    let expected = softmax(Tensor([1, 2, 3]))
    expectClose(tape.gradient(of: y, wrt: a), expected, tolerance: 1e-15)
    expectClose(y.value, Tensor(log(exp(1) + exp(2) + exp(3))), tolerance: 1e-15)
    // gradient(of:wrt:) sets the grad of what it was asked about, and only that.
    #expect(a.grad == tape.gradient(of: y, wrt: a))
    #expect(y.grad == nil)
    y.backward()
    let first = a.grad
    y.backward()
    #expect(a.grad == first, "backward twice must not accumulate")
    expectClose(a.grad!, expected, tolerance: 1e-15)
    #expect(y.grad == Tensor(1))
  }

  @Test func printingListsEveryEntry() {
    let tape = Tape()
    let x = tape.variable([1, 2])
    let y = (x * x).sum()
    let before = tape.description
    #expect(before.contains("variable") && before.contains("multiply") && before.contains("sum"))
    #expect(!before.contains("adjoint"))
    let lines = before.split(separator: "\n")
    #expect(lines.count == 1 + tape.count)
    #expect(
      lines[2].contains("multiply") && lines[2].contains("#0, #0") && lines[2].contains("[1, 4]"))
    // A constant operand is shown by its value, beside the entry it multiplies.
    let scaled = Tape()
    _ = 1.5 * scaled.variable(Tensor(2))
    #expect(scaled.count == 2, "the constant 1.5 is not an entry")
    #expect(scaled.description.split(separator: "\n")[2].contains("multiply  1.5, #0"))
    #expect(scaled[1].operands.count == 2 && scaled[1].inputs == [0])
    y.backward()
    let after = tape.description
    #expect(after.contains("adjoint"))
    #expect(after.split(separator: "\n")[1].hasSuffix("[2, 4]"))
  }

  @Test func constantsReceiveNoGradient() {
    let tape = Tape()
    let x = tape.variable([1, 2])
    let c = tape.constant([3, 4])
    let y = (x * c).sum()
    y.backward()
    #expect(x.grad == [3, 4])
    #expect(c.grad == [0, 0])
    #expect(Variable([1]).grad == nil)
  }

  @Test("A chain of 10⁶ rank-0 operations records, sweeps and frees")
  func millionStepChain() {
    let steps = 1_000_000
    let tape = Tape()
    let x = tape.variable(Tensor(1))
    var y = x
    for _ in 0..<steps { y = tanh(y) }
    #expect(tape.count == steps + 1)
    // By hand: d tanh(y)/dy = 1 − tanh(y)², multiplied along the chain, with the library's tanh
    // on a Double (the tensor kernel's bits) so that the values agree exactly.
    var value = 1.0
    var derivative = 1.0
    for _ in 0..<steps {
      value = tanh(Tensor(value)).scalar!
      derivative *= 1 - value * value
    }
    #expect(y.value == Tensor(value))
    let g = tape.gradient(of: y, wrt: x).scalar!
    #expect(abs(g - derivative) <= 1e-9 * derivative, "\(g) vs \(derivative)")
  }

  @Test("Differentiating the gradient: reverse over reverse")
  func gradientOfAGradient() {
    let tape = Tape()
    let x = tape.variable([1, 2])
    let g = gradient(of: logSumExp(x), wrt: x)
    expectClose(g.value, softmax(Tensor([1, 2])), tolerance: 1e-16)
    #expect(g.tape === tape)
    // d/dx of g₀ is the first row of the softmax Jacobian.
    expectClose(
      tape.gradient(of: g[0], wrt: x), [0.19661193324148185, -0.19661193324148185], tolerance: 1e-16
    )
    // A third order: d³/dx³ of x⁴ at 2 is 24 · 2 = 48.
    let t = Tape()
    let s = t.variable(Tensor(2))
    let first = gradient(of: pow(s, 4), wrt: s)
    let second = gradient(of: first, wrt: s)
    #expect(first.value == Tensor(32) && second.value == Tensor(48))
    #expect(t.gradient(of: second, wrt: s) == Tensor(48))
  }

  @Test("Tapes in parallel tasks are independent and give the same results as one at a time")
  func concurrentTapes() async {
    let inputs = (0..<32).map { i in Tensor([Double(i), 1, -Double(i) / 3]) }
    func work(_ x: Tensor) -> [Double] {
      let tape = Tape()
      let v = tape.variable(x)
      var y = v
      for _ in 0..<200 { y = tanh(y * 0.9 + 0.1) }
      let loss = logSumExp(y) + (softmax(v) * v).sum()
      return tape.gradient(of: loss, wrt: v).scalars + hessian(at: x) { logSumExp($0) }.scalars
    }
    let sequential = inputs.map(work)
    let parallel = await withTaskGroup(of: (Int, [Double]).self) { group in
      for (index, x) in inputs.enumerated() {
        group.addTask { (index, work(x)) }
      }
      var results = [[Double]](repeating: [], count: inputs.count)
      for await (index, result) in group { results[index] = result }
      return results
    }
    #expect(parallel == sequential)
  }
}
