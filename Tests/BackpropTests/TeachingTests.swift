import Testing

@testable import Backprop

@Suite("Backward replay and tape cost")
struct TeachingTests {
  @Test func replayEndsWhereBackwardEnds() {
    let tape = Tape()
    let x = tape.variable([1, 2])
    let w = tape.variable(Tensor(3))
    let y = (tanh(x * w) + x).sum()
    let replay = y.backwardReplay()
    // sum, add, tanh, multiply: one step per operation, from the last entry to the first.
    #expect(replay.steps.map(\.op) == ["sum", "add", "tanh", "multiply"])
    #expect(replay.steps.map(\.entry) == [5, 4, 3, 2])
    #expect(replay.seed.compactMap { $0 } == [Tensor(1)])
    y.backward()
    let last = replay.steps.last!.adjoints
    #expect(last[0] == x.grad && last[1] == w.grad)
    // After the first step only the sum's operand has received its adjoint.
    #expect(replay.steps[0].adjoints[4] == [1, 1] && replay.steps[0].adjoints[3] == nil)
    let table = replay.description.split(separator: "\n")
    #expect(table.count == 2 + replay.steps.count)
    #expect(table[0].hasPrefix("step  applied"))
  }

  @Test func costCountsEntriesScalarsAndBytes() {
    let stride = MemoryLayout<Record>.stride
    let fused = Tape()
    _ = softmax(fused.variable([1, 2, 3]))
    #expect(fused.cost.entries == 2 && fused.cost.savedScalars == 6)
    #expect(fused.cost.bytes == 2 * stride + 6 * 8)
    #expect(fused.cost.operations == ["variable": 1, "softmax": 1])
    let composed = Tape()
    _ = composedSoftmax(composed.variable([1, 2, 3]))
    // variable [3], max [1], subtract [3], exp [3], sum [1], divide [3].
    #expect(composed.cost.entries == 6 && composed.cost.savedScalars == 14)
    #expect(composed.cost.bytes == 6 * stride + 14 * 8)
    let scalar = Tape()
    _ = tanh(scalar.variable(Tensor(1)))
    #expect(scalar.cost.bytes == 2 * stride, "rank-0 values live inside their entries")
    // What a fused primitive saves for its VJP counts too.
    let loss = Tape()
    _ = crossEntropy(logits: loss.variable(Tensor([[1, 2, 3]])), labels: [0])
    #expect(loss.cost.savedScalars == 3 + 1 + 1 + 3)
  }

  @Test("A replay keeps what each step changed, not a copy of every adjoint per step")
  func replayMemoryIsLinear() {
    let tape = Tape()
    let x = tape.variable(Tensor(0.5))
    var y = x
    for _ in 0..<20_000 { y = tanh(y) }
    let replay = y.backwardReplay()
    #expect(replay.steps.count == 20_000)
    // One change a step (tanh has one operand), so O(n) tensors in all, where a copy of the
    // adjoints per step held n²/2 = 2·10⁸ of them.
    #expect(replay.steps.map(\.changes.count).reduce(0, +) == 20_000)
    let final = replay.steps.last!.adjoints
    #expect(final[0] == tape.gradient(of: y, wrt: x))
    #expect(
      replay.steps[9_999].adjoints[10_000] != nil && replay.steps[9_999].adjoints[9_999] == nil)
  }
}
