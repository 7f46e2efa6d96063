import Backprop
import Foundation
import Testing

@Suite("Training helpers: shuffled batches, schedules, AdamW, accuracy")
struct TrainingTests {
  @Test("Shuffled batches cover every position once, in batches of the size, reproducibly")
  func batches() {
    var a = SeededGenerator(seed: 4)
    var b = SeededGenerator(seed: 4)
    let first = shuffledBatches(count: 103, batchSize: 10, using: &a)
    #expect(first == shuffledBatches(count: 103, batchSize: 10, using: &b))
    #expect(first.map(\.count) == [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3])
    #expect(first.flatMap { $0 }.sorted() == Array(0..<103))
    #expect(first.flatMap { $0 } != Array(0..<103))
    // The next epoch, from the same generator, is another order.
    #expect(shuffledBatches(count: 103, batchSize: 10, using: &a) != first)
    #expect(shuffledBatches(count: 0, batchSize: 4, using: &a).isEmpty)
    #expect(shuffledBatches(count: 1, batchSize: 4, using: &a) == [[0]])
  }

  @Test("Schedules give PyTorch's StepLR and CosineAnnealingLR rates")
  func schedules() {
    let step = LearningRateSchedule.step(every: 3, factor: 0.5)
    #expect((0..<7).map { step.rate(0.1, at: $0) } == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])
    let cosine = LearningRateSchedule.cosine(steps: 10, minimum: 0.01)
    #expect(cosine.rate(0.1, at: 0) == 0.1)
    #expect(abs(cosine.rate(0.1, at: 5) - 0.055) < 1e-15)
    #expect(cosine.rate(0.1, at: 10) == 0.01 && cosine.rate(0.1, at: 25) == 0.01)
    // Between, η_min + (η − η_min)(1 + cos(π t/T))/2.
    let t = 3.0
    #expect(cosine.rate(0.1, at: 3) == 0.01 + 0.09 * (1 + cos(Double.pi * t / 10)) / 2)
    #expect(LearningRateSchedule.constant.rate(0.3, at: 1000) == 0.3)
  }

  @Test("AdamW decays θ by (1 − ηλ) before Adam's step, which never sees λ")
  func adamW() {
    var optimizer = AdamW(learningRate: 0.1, weightDecay: 0.01)
    var parameters: [Tensor] = [[2, -1]]
    optimizer.update(&parameters, along: [[0.5, 0]])
    // Adam's first step is η ĝ/(√v̂ + ε) with ĝ = g and v̂ = g²; a zero gradient moves nothing
    // but the decay.
    let decayed = 1 - 0.1 * 0.01
    let expected = [2 * decayed - 0.1 * (0.5 / (0.5 + 1e-8)), -1 * decayed]
    #expect(parameters[0].scalars == expected)
    // The model form takes the same step.
    var generator = SeededGenerator(seed: 9)
    let model = MLP(sizes: [2, 3, 1], using: &generator)
    let x = Variable(Tensor.normal([5, 2], using: &generator))
    let gradients = model.gradient { m in (m(x) * m(x)).mean() }
    var tensors = model.parameters.map(\.value)
    var onModel = AdamW(learningRate: 0.01)
    var onTensors = AdamW(learningRate: 0.01)
    onModel.update(model, along: gradients)
    onTensors.update(&tensors, along: gradients.tensors)
    #expect(model.parameters.map(\.value) == tensors)
  }

  @Test("Accuracy counts rows whose largest logit is at the label, the first of ties")
  func accuracyOfRows() {
    let logits = Tensor(shape: [3, 2], scalars: [1, 2, 3, 0, 0, 0])
    #expect(accuracy(logits: logits, labels: [1, 0, 1]) == 2.0 / 3)
    #expect(accuracy(logits: logits, labels: [1, 0, 0]) == 1)
    #expect(accuracy(logits: Tensor(shape: [0, 2], scalars: []), labels: []) == 0)
  }
}

@Suite("Adam's one pass gives its tensor formula's bits")
struct AdamFormulaTests {
  @Test("Five steps with and without weight decay, against the rule in tensor operations")
  func onePassIsTheFormula() {
    var random = SeededGenerator(seed: 31)
    for weightDecay in [0.0, 0.01] {
      var optimizer = Adam(learningRate: 0.01, weightDecay: weightDecay)
      var parameters = [Tensor.normal([7, 3], using: &random), Tensor.normal([3], using: &random)]
      var expected = parameters
      var (m, v) = (
        parameters.map { Tensor.zeros($0.shape) }, parameters.map { Tensor.zeros($0.shape) }
      )
      for step in 1...5 {
        let gradients = parameters.map { Tensor.normal($0.shape, using: &random) }
        optimizer.update(&parameters, along: gradients)
        let (c1, c2) = (1 - pow(0.9, Double(step)), 1 - pow(0.999, Double(step)))
        for i in expected.indices {
          var g = gradients[i]
          if weightDecay != 0 { g = g + weightDecay * expected[i] }
          m[i] = 0.9 * m[i] + (1 - 0.9) * g
          v[i] = 0.999 * v[i] + (1 - 0.999) * (g * g)
          let scale = (v[i] / c2).map { $0.squareRoot() } + 1e-8
          expected[i] = expected[i] - 0.01 * ((m[i] / c1) / scale)
        }
        #expect(
          parameters.map { $0.scalars.map(\.bitPattern) }
            == expected.map { $0.scalars.map(\.bitPattern) },
          "step \(step), weight decay \(weightDecay)")
      }
    }
  }
}
