import Backprop
import Testing

// Programmer errors stop the process with a message naming the operation and the shapes. Each
// case runs in a child process (an exit test) whose standard error is checked.

@Suite("Programmer errors are precondition failures that name the op and the shapes")
struct PreconditionTests {
  @Test func shapesThatDoNotBroadcast() async {
    expectMessage(
      "add: shapes [3] and [4] do not broadcast",
      in: await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = Variable([1, 2, 3]) + Variable([1, 2, 3, 4])
      })
    expectMessage(
      "multiply: shapes [2, 3] and [2] do not broadcast",
      in: await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = gradient(at: .zeros([2, 3])) { ($0 * Tensor([1, 2])).sum() }
      })
  }

  @Test func gradientOfANonScalar() async {
    expectMessage(
      "gradient(at:of:): the result has shape [3], not a scalar — use jacobian or pullback",
      in: await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = gradient(at: [1, 2, 3]) { $0 * 2 }
      })
    expectMessage(
      "backward(): the result has shape [2], not a scalar",
      in: await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        let tape = Tape()
        (tape.variable([1, 2]) * 2).backward()
      })
  }

  @Test func variablesFromTwoTapes() async {
    expectMessage(
      "add: the operands are variables from two different tapes",
      in: await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = Tape().variable([1]) + Tape().variable([2])
      })
  }

  @Test func otherShapeErrors() async {
    expectMessage(
      "matmul: shapes [2, 3] and [2, 3] are not matrices, vectors or batches with agreeing inner",
      in: await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = matmul(Variable(.zeros([2, 3])), Variable(.zeros([2, 3])))
      })
    expectMessage(
      "reshape: shape [2, 3] (6 scalars) cannot become [4] (4)",
      in: await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = Variable(.zeros([2, 3])).reshaped(to: [4])
      })
    expectMessage(
      "Linear(64 → 10) at layers.0: the input has shape [32, 63], where [64] or [batch, 64] "
        + "was expected",
      in: await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        var generator = SeededGenerator(seed: 0)
        let model = MLP(sizes: [64, 10], using: &generator)
        _ = model(Variable(.zeros([32, 63])))
      })
    expectMessage(
      "binaryCrossEntropy(logits:labels:): label 1.5 at index 1 of labels [3] is outside [0, 1]",
      in: await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = binaryCrossEntropy(logits: Variable(.zeros([3])), labels: [0, 1.5, -1])
      })
    expectMessage(
      "crossEntropy: label 3 at row 0 is not a class index in 0..<3",
      in: await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = crossEntropy(logits: Variable(.zeros([1, 3])), labels: [3])
      })
    expectMessage(
      "sum: axis 2 is out of range for a tensor of rank 2",
      in: await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = Variable(.zeros([2, 3])).sum(alongAxes: 2)
      })
    expectMessage(
      "softmax: needs at least one axis, got shape []",
      in: await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = softmax(Variable(1))
      })
    expectMessage(
      "Tensor(shape:scalars:): shape [2, 2] needs 4 scalars, got 3",
      in: await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
        _ = Tensor(shape: [2, 2], scalars: [1, 2, 3])
      })
  }
}

/// Expects an exit test's standard error to contain `message`.
private func expectMessage(
  _ message: String, in result: ExitTest.Result?, sourceLocation: SourceLocation = #_sourceLocation
) {
  let standardError = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
  #expect(
    standardError.contains(message), "stderr: \(standardError)", sourceLocation: sourceLocation)
}
