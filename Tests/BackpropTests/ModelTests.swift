import Backprop
import Foundation
import Testing

/// A user's model: layers in properties, in an array and behind an optional, with a shared
/// layer reached twice.
final class TwoTowers: Layer {
  let first: Linear
  let towers: [any Layer]
  let head: Linear?
  let shared: Linear

  init(using generator: inout SeededGenerator) {
    first = Linear(inputSize: 3, outputSize: 4, using: &generator)
    let shared = Linear(inputSize: 4, outputSize: 4, bias: false, using: &generator)
    towers = [Activation.tanh, shared]
    head = Linear(inputSize: 4, outputSize: 2, using: &generator)
    self.shared = shared
  }

  func callAsFunction(_ x: Variable) -> Variable {
    head!(shared(towers.reduce(first(x)) { $1($0) }))
  }
}

@Suite("Models: parameters found by reflection, gradients by path, optimizers in place")
struct ModelTests {
  @Test("Parameters are found with their paths, each once, in property order")
  func discovery() {
    var generator = SeededGenerator(seed: 1)
    let model = TwoTowers(using: &generator)
    #expect(
      model.namedParameters.map(\.path) == [
        "first.weight", "first.bias", "towers.1.weight", "head.weight", "head.bias",
      ])
    #expect(model.parameterCount == 12 + 4 + 16 + 8 + 2)
    let mlp = MLP(sizes: [2, 16, 16, 1], using: &generator)
    #expect(
      mlp.namedParameters.map(\.path) == [
        "layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias", "layers.4.weight",
        "layers.4.bias",
      ])
    #expect(mlp.parameters.map(\.value.shape) == [[16, 2], [16], [16, 16], [16], [1, 16], [1]])
  }

  @Test("Linear is initialized as PyTorch's, uniform in ±1/√fan-in, and reproducibly")
  func initialization() {
    var a = SeededGenerator(seed: 7)
    var b = SeededGenerator(seed: 7)
    let (one, two) = (
      Linear(inputSize: 64, outputSize: 32, using: &a),
      Linear(inputSize: 64, outputSize: 32, using: &b)
    )
    #expect(one.weight.value == two.weight.value && one.bias!.value == two.bias!.value)
    let scalars = one.weight.value.scalars + one.bias!.value.scalars
    #expect(scalars.allSatisfy { abs($0) <= 0.125 })
    // Uniform on ±1/8: the mean near 0 and the variance near (1/8)²/3, over 2,080 draws.
    let mean = scalars.reduce(0, +) / Double(scalars.count)
    let variance = scalars.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(scalars.count)
    #expect(abs(mean) < 0.01 && abs(variance / (0.125 * 0.125 / 3) - 1) < 0.1)
  }

  @Test("Linear computes x Wᵀ + b, for a vector and a batch")
  func linearForward() {
    let layer = Linear(
      weight: Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]), bias: Tensor([0.5, -1]))
    #expect(layer(Variable([1, 0, -1])).value == Tensor([-1.5, -3]))
    let batch = layer(Variable(Tensor(shape: [2, 3], scalars: [1, 0, -1, 0, 1, 0]))).value
    #expect(batch == Tensor(shape: [2, 2], scalars: [-1.5, -3, 2.5, 4]))
  }

  @Test("A model's gradients are those of the same loss over its parameters as tensors")
  func gradientsMatchTheTensorForm() {
    var generator = SeededGenerator(seed: 3)
    let model = MLP(sizes: [3, 5, 2], activation: .tanh, using: &generator)
    let x = Tensor.normal([4, 3], using: &generator)
    let target = Tensor.normal([4, 2], using: &generator)
    let (value, gradients) = model.valueWithGradient { m in
      meanSquaredError(predicted: m(Variable(x)), expected: Variable(target))
    }
    let tensors = model.parameters.map(\.value)
    let (expectedValue, expected) = valueWithGradient(at: tensors) { p in
      let hidden = tanh(matmul(Variable(x), p[0].transposed()) + p[1])
      return meanSquaredError(
        predicted: matmul(hidden, p[2].transposed()) + p[3], expected: Variable(target))
    }
    #expect(value == expectedValue)
    #expect(gradients.tensors == expected)
    #expect(gradients["layers.2.bias"] == expected[3])
    // The parameters are constants again afterwards.
    #expect(model.parameters.allSatisfy { $0.variable.tape == nil })
  }

  @Test("A frozen layer gets no gradient and no update; SGD and Adam step a model in place")
  func freezingAndOptimizers() {
    var generator = SeededGenerator(seed: 5)
    let model = MLP(sizes: [2, 3, 1], using: &generator)
    let x = Variable(Tensor.normal([6, 2], using: &generator))
    let loss = { (m: MLP) in m(x).sum() }
    (model.layers[0] as! Linear).freeze()
    let before = model.parameters.map(\.value)
    let gradients = model.gradient(of: loss)
    #expect(gradients.paths == ["layers.2.weight", "layers.2.bias"])
    var sgd = SGD(learningRate: 0.5)
    sgd.update(model, along: gradients)
    let after = model.parameters.map(\.value)
    #expect(after[0] == before[0] && after[1] == before[1])
    #expect(after[2] == before[2] - 0.5 * gradients.tensors[0])
    #expect(after[3] == before[3] - 0.5 * gradients.tensors[1])
    // Adam on a model takes the step Adam takes on the same tensors.
    model.unfreeze()
    var onModel = Adam(learningRate: 0.01)
    var onTensors = Adam(learningRate: 0.01)
    var tensors = model.parameters.map(\.value)
    let all = model.gradient(of: loss)
    onModel.update(model, along: all)
    onTensors.update(&tensors, along: all.tensors)
    #expect(model.parameters.map(\.value) == tensors)
  }

  @Test("Clipping by norm scales every gradient by min(1, c / (‖g‖ + 1e−6)), as PyTorch")
  func clipping() {
    let gradients = Gradients(paths: ["a", "b"], tensors: [[3, 0], [4]])
    #expect(gradients.norm == 5)
    let clipped = gradients.clipped(toNorm: 1)
    let scale = 1 / (5 + 1e-6)
    #expect(clipped.tensors == [[3 * scale, 0], [4 * scale]])
    #expect(gradients.clipped(toNorm: 10).tensors == gradients.tensors)
  }

  @Test("A model's state round-trips through JSON to the bit; a mismatch names the parameter")
  func savingAndLoading() throws {
    var generator = SeededGenerator(seed: 11)
    let model = MLP(sizes: [2, 4, 1], using: &generator)
    model.parameters[1].value = Tensor([.infinity, -0.0, 0x1p-1074, 0.1])
    let data = try model.state.jsonData()
    let other = MLP(sizes: [2, 4, 1], using: &generator)
    #expect(other.state != model.state)
    try other.load(try ModelState(jsonData: data))
    #expect(
      zip(other.parameters, model.parameters).allSatisfy { a, b in
        a.value.scalars.map(\.bitPattern) == b.value.scalars.map(\.bitPattern)
      })
    let wider = MLP(sizes: [2, 5, 1], using: &generator)
    #expect(
      throws: ModelStateMismatch(
        description: "parameter layers.0.weight is [5, 2] in the model, but the saved state has "
          + "shape [4, 2] with 8 scalars")
    ) { try wider.load(model.state) }
    let deeper = MLP(sizes: [2, 4, 4, 1], using: &generator)
    #expect(throws: ModelStateMismatch.self) { try deeper.load(model.state) }
  }

  @Test("A model's gradient check passes every parameter of a right loss, fails a detached one")
  func modelGradientCheck() {
    var generator = SeededGenerator(seed: 9)
    let model = TwoTowers(using: &generator)
    let x = Variable(Tensor.normal([5, 3], using: &generator))
    let reports = model.checkGradient { m in (m(x) * m(x)).mean() }
    #expect(reports.map(\.path) == model.namedParameters.map(\.path))
    #expect(reports.allSatisfy { $0.report.passed }, "\(reports.map(\.report))")

    // The classic mistake: a penalty on the head's weight computed from its value, a constant
    // to the tape, so its gradient is missing. Only that parameter fails, by the penalty's.
    let detached = model.checkGradient { m in
      let w = Variable(m.head!.weight.variable.value)
      return (m(x) * m(x)).mean() + (w * w).sum()
    }
    let failed = detached.filter { $0.report.verdict == .failed }.map(\.path)
    #expect(failed == ["head.weight"])
    let w = model.head!.weight.value
    let missing = 2 * w.scalars.map(abs).max()!
    let error = detached.first { $0.path == "head.weight" }!.report.maxAbsoluteError
    #expect(abs(error - missing) <= 1e-6 * missing, "error \(error), 2 max |w| = \(missing)")

    // A frozen parameter is not checked.
    model.head!.freeze()
    #expect(!model.checkGradient { m in m(x).sum() }.map(\.path).contains("head.weight"))
  }

  @Test("Training an MLP on XOR drives the loss down, reproducibly")
  func trainsXOR() {
    var generator = SeededGenerator(seed: 0)
    let model = MLP(sizes: [2, 8, 1], activation: .tanh, using: &generator)
    let x = Variable(Tensor(shape: [4, 2], scalars: [0, 0, 0, 1, 1, 0, 1, 1]))
    let y = Variable(Tensor(shape: [4, 1], scalars: [0, 1, 1, 0]))
    var optimizer = Adam(learningRate: 0.05)
    var losses: [Double] = []
    for _ in 0..<300 {
      let (loss, gradients) = model.valueWithGradient { m in
        meanSquaredError(predicted: m(x), expected: y)
      }
      losses.append(loss.scalar!)
      optimizer.update(model, along: gradients)
    }
    #expect(losses[0] > 0.1 && losses.last! < 1e-3, "\(losses[0]) → \(losses.last!)")
    let predictions = model(x).value.scalars.map { $0 > 0.5 ? 1.0 : 0.0 }
    #expect(predictions == [0, 1, 1, 0])
  }
}
