import Backprop
import Foundation

/// Three interleaved spiral arms in the plane, one per class: not separable by a line.
func spirals(pointsPerClass n: Int, classes: Int, generator: inout SeededGenerator) -> (
  x: Tensor, labels: [Int]
) {
  var scalars: [Double] = []
  var labels: [Int] = []
  for label in 0..<classes {
    for i in 0..<n {
      let radius = Double(i) / Double(n - 1)
      let noise = Tensor.normal([], standardDeviation: 0.2, using: &generator).scalar!
      let angle = Double(label) * 4 + 4 * radius + noise
      scalars += [radius * Foundation.sin(angle), radius * Foundation.cos(angle)]
      labels.append(label)
    }
  }
  return (Tensor(shape: [n * classes, 2], scalars: scalars), labels)
}

/// A model's parameters and how they turn inputs into class scores.
struct Model {
  var name: String
  var parameters: [Tensor]
  var scores: ([Variable], Variable) -> Variable

  /// Mean cross-entropy plus an L2 penalty on the weight matrices (the rank-2 parameters).
  func loss(_ parameters: [Variable], _ x: Variable, _ labels: [Int], reg: Double) -> Variable {
    let penalty = parameters.filter { $0.shape.count == 2 }.map { ($0 * $0).sum() }.reduce(
      Variable(0), +)
    return crossEntropy(logits: scores(parameters, x), labels: labels) + reg * penalty
  }

  func predictions(_ x: Tensor) -> [Int] {
    let s = scores(parameters.map(Variable.init), Variable(x)).value
    let classes = s.shape[1]
    let values = s.scalars
    return (0..<s.shape[0]).map { row in
      (0..<classes).max { values[row * classes + $0] < values[row * classes + $1] }!
    }
  }

  func accuracy(_ x: Tensor, _ labels: [Int]) -> Double {
    Double(zip(predictions(x), labels).filter { $0 == $1 }.count) / Double(labels.count)
  }

  /// Gradient descent with the library's SGD optimizer; returns the loss after every step.
  /// Each step is one `valueWithGradient` (one tape) and one update.
  mutating func train(
    _ x: Tensor, _ labels: [Int], steps: Int, rate: Double, reg: Double, lesson: Lesson
  ) -> [Double] {
    var losses: [Double] = []
    let input = Variable(x)
    var optimizer = SGD(learningRate: rate)
    for step in 0...steps {
      let (value, gradients) = valueWithGradient(at: parameters) { p in
        loss(p, input, labels, reg: reg)
      }
      losses.append(value.scalar!)
      if step == steps { break }
      optimizer.update(&parameters, along: gradients)
      if step % (steps / 5) == 0 {
        lesson.say(
          "    step \(String(step).padding(toLength: 5, withPad: " ", startingAt: 0)) loss \(show(losses.last!))   accuracy \(percent(accuracy(x, labels)))"
        )
      }
    }
    return losses
  }
}

func training(_ lesson: inout Lesson) {
  var generator = SeededGenerator(seed: 231)
  let (x, labels) = spirals(pointsPerClass: 100, classes: 3, generator: &generator)
  lesson.say(
    """
    Data: 300 points on three spiral arms, generated here (no download), one class per arm.

    Two models, both trained by gradient descent (the library's SGD optimizer: one gradient
    and one optimizer.update(&parameters, along:) a step) on the mean cross-entropy plus
    10⁻³ Σ W²:
      linear:     scores = X W + b
      two-layer:  scores = relu(X W₁ + b₁) W₂ + b₂, with 64 hidden units

    Before training either, check its gradient on a small batch: a wrong gradient trains
    badly, and the training curve cannot tell you why. (Avoid points where relu sits exactly
    at 0: at a kink, central differences and the tape's convention disagree without a bug.)
    """)
  let linear = Model(
    name: "linear",
    parameters: [
      .normal([2, 3], standardDeviation: 0.01, using: &generator), .zeros([3]),
    ],
    scores: { p, x in matmul(x, p[0]) + p[1] })
  let hidden = 64
  let network = Model(
    name: "two-layer",
    parameters: [
      .normal([2, hidden], standardDeviation: 0.5, using: &generator), .zeros([hidden]),
      .normal([hidden, 3], standardDeviation: 0.1, using: &generator), .zeros([3]),
    ],
    scores: { p, x in matmul(relu(matmul(x, p[0]) + p[1]), p[2]) + p[3] })

  // Points 1–3 of two arms. Point 0 of every arm is the origin, where relu(x W₁ + b₁) sits
  // exactly at relu's kink while b₁ = 0: central differences there see the slope ½ of a
  // corner, the tape its convention 0, and the check fails with no bug to find.
  let batch = Tensor(shape: [6, 2], scalars: Array(x.scalars[2..<8] + x.scalars[202..<208]))
  let batchLabels = [0, 0, 0, 1, 1, 1]
  for model in [linear, network] {
    for index in model.parameters.indices {
      let report = checkGradient(at: model.parameters[index]) { p in
        var parameters = model.parameters.map(Variable.init)
        parameters[index] = p
        return model.loss(parameters, Variable(batch), batchLabels, reg: 1e-3)
      }
      lesson.check(
        "\(model.name): the gradient for parameter \(index) passes the check (max error \(show(report.maxAbsoluteError)))",
        report.passed)
    }
  }

  var trained: [(Model, [Double])] = []
  for (var model, steps, rate) in [(linear, 200, 1.0), (network, 1500, 0.5)] {
    lesson.say("\n  Training the \(model.name) model, \(steps) steps at rate \(rate):")
    let losses = model.train(x, labels, steps: steps, rate: rate, reg: 1e-3, lesson: lesson)
    let accuracy = model.accuracy(x, labels)
    lesson.say("    final loss \(show(losses.last!)), accuracy \(percent(accuracy))")
    lesson.check(
      "\(model.name): the loss fell from \(show(losses[0])) to \(show(losses.last!))",
      losses.last! < losses[0] * 0.8)
    trained.append((model, losses))
  }
  let linearAccuracy = trained[0].0.accuracy(x, labels)
  let networkAccuracy = trained[1].0.accuracy(x, labels)
  lesson.check(
    "a line cannot separate spirals: the linear model stays below 70%", linearAccuracy < 0.7)
  lesson.check("the two-layer network separates them: above 90%", networkAccuracy > 0.9)

  lesson.write(
    SVG.linePlot(
      title: "Training loss on the spirals", xLabel: "step", yLabel: "loss",
      series: trained.enumerated().map { index, pair in
        .init(
          name: "\(pair.0.name) (\(percent(pair.0.accuracy(x, labels))))",
          color: SVG.classColors[index],
          points: pair.1.enumerated().map { (Double($0.offset), $0.element) })
      }),
    to: "training-loss.svg")
  let cells = 80
  let coordinates = (0..<cells).map { -1.1 + 2.2 * (Double($0) + 0.5) / Double(cells) }
  let grid = Tensor(
    shape: [cells * cells, 2],
    scalars: coordinates.flatMap { y in coordinates.flatMap { x in [x, y] } })
  let points = (0..<labels.count).map { (x[$0, 0], x[$0, 1], labels[$0]) }
  for (model, _) in trained {
    let predicted = model.predictions(grid)
    let rows = (0..<cells).map { row in Array(predicted[(row * cells)..<((row + 1) * cells)]) }
    lesson.write(
      SVG.decisionRegions(
        title: "Decision regions: \(model.name)", bounds: (-1.1, 1.1), grid: rows, points: points),
      to: "decision-regions-\(model.name).svg")
  }
  if lesson.output == nil {
    lesson.say(
      "\n  (Run with --output DIR to write the loss curve and the decision regions as SVG.)")
  }
}

/// A fraction as a percentage with one decimal: 0.543333 is "54.3%".
func percent(_ fraction: Double) -> String { String(format: "%.1f%%", fraction * 100) }
