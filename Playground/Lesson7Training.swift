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

/// Mean cross-entropy of the model's scores plus 10⁻³ Σ W² over its weight matrices.
func spiralLoss(_ model: some Layer, _ x: Variable, _ labels: [Int]) -> Variable {
  let penalty = model.parameters.filter { $0.value.rank == 2 }
    .map { ($0.variable * $0.variable).sum() }.reduce(Variable(0), +)
  return crossEntropy(logits: model(x), labels: labels) + 1e-3 * penalty
}

/// The model's gradient check on a batch: a report per parameter.
func gradientChecks(_ model: some Layer, _ x: Variable, _ labels: [Int]) -> [(
  path: String, report: GradientCheckReport
)] {
  model.checkGradient { m in spiralLoss(m, x, labels) }
}

/// The class each row of `x` is given: the index of its largest score.
func predictions(_ model: any Layer, _ x: Tensor) -> [Int] {
  model(Variable(x)).value.argmax(alongAxis: 1).scalars.map { Int($0) }
}

/// Gradient descent on a model in place, one `model.valueWithGradient` and one SGD update a
/// step; returns the loss before every step and after the last.
func train(
  _ model: some Layer, _ x: Tensor, _ labels: [Int], steps: Int, rate: Double, lesson: Lesson
) -> [Double] {
  let input = Variable(x)
  var optimizer = SGD(learningRate: rate)
  var losses: [Double] = []
  for step in 0...steps {
    let (value, gradients) = model.valueWithGradient { m in spiralLoss(m, input, labels) }
    losses.append(value.scalar!)
    if step == steps { break }
    optimizer.update(model, along: gradients)
    if step % (steps / 5) == 0 {
      let fraction = accuracy(logits: model(input).value, labels: labels)
      lesson.say(
        "    step \(String(step).padding(toLength: 5, withPad: " ", startingAt: 0)) loss \(show(losses.last!))   accuracy \(percent(fraction))"
      )
    }
  }
  return losses
}

func training(_ lesson: inout Lesson) {
  var generator = SeededGenerator(seed: 231)
  let (x, labels) = spirals(pointsPerClass: 100, classes: 3, generator: &generator)
  lesson.say(
    """
    Data: 300 points on three spiral arms, generated here (no download), one class per arm.

    Two models, both trained by gradient descent (SGD: one model.valueWithGradient { … }
    and one optimizer.update(model, along:) a step) on the mean cross-entropy plus
    10⁻³ Σ W² over the weight matrices:
      linear:     Linear(inputSize: 2, outputSize: 3)             scores = x Wᵀ + b
      two-layer:  MLP(sizes: [2, 64, 3]), relu between the layers

    Before training either, check its gradient on a small batch: a wrong gradient trains
    badly, and the training curve cannot tell you why. model.checkGradient { … } checks
    each parameter against central differences.
    """)
  let models: [(name: String, model: any Layer, steps: Int, rate: Double)] = [
    ("linear", Linear(inputSize: 2, outputSize: 3, using: &generator), 200, 1.0),
    ("two-layer", MLP(sizes: [2, 64, 3], activation: .relu, using: &generator), 1500, 0.5),
  ]

  // Points 0–2 of the first two arms.
  let batch = Variable(
    Tensor(shape: [6, 2], scalars: Array(x.scalars[0..<6] + x.scalars[200..<206])))
  let batchLabels = [0, 0, 0, 1, 1, 1]
  for (name, model, _, _) in models {
    for (path, report) in gradientChecks(model, batch, batchLabels) {
      lesson.check(
        "\(name): the gradient in \(path) passes the check (max error \(show(report.maxAbsoluteError)))",
        report.passed)
    }
  }

  var curves: [[Double]] = []
  for (name, model, steps, rate) in models {
    lesson.say("\n  Training the \(name) model, \(steps) steps at rate \(rate):")
    let losses = train(model, x, labels, steps: steps, rate: rate, lesson: lesson)
    let fraction = accuracy(logits: model(Variable(x)).value, labels: labels)
    lesson.say("    final loss \(show(losses.last!)), accuracy \(percent(fraction))")
    lesson.check(
      "\(name): the loss fell from \(show(losses[0])) to \(show(losses.last!))",
      losses.last! < losses[0] * 0.8)
    curves.append(losses)
  }
  let accuracies = models.map { accuracy(logits: $0.model(Variable(x)).value, labels: labels) }
  lesson.check(
    "a line cannot separate spirals: the linear model stays below 70%", accuracies[0] < 0.7)
  lesson.check("the two-layer network separates them: above 90%", accuracies[1] > 0.9)

  lesson.write(
    SVG.linePlot(
      title: "Training loss on the spirals", xLabel: "step", yLabel: "loss",
      series: curves.indices.map { index in
        .init(
          name: "\(models[index].name) (\(percent(accuracies[index])))",
          color: SVG.classColors[index],
          points: curves[index].enumerated().map { (Double($0.offset), $0.element) })
      }),
    to: "training-loss.svg")
  let cells = 80
  let coordinates = (0..<cells).map { -1.1 + 2.2 * (Double($0) + 0.5) / Double(cells) }
  let grid = Tensor(
    shape: [cells * cells, 2],
    scalars: coordinates.flatMap { y in coordinates.flatMap { x in [x, y] } })
  let points = (0..<labels.count).map { (x[$0, 0], x[$0, 1], labels[$0]) }
  for (name, model, _, _) in models {
    let predicted = predictions(model, grid)
    let rows = (0..<cells).map { row in Array(predicted[(row * cells)..<((row + 1) * cells)]) }
    lesson.write(
      SVG.decisionRegions(
        title: "Decision regions: \(name)", bounds: (-1.1, 1.1), grid: rows, points: points),
      to: "decision-regions-\(name).svg")
  }
  if lesson.output == nil {
    lesson.say(
      "\n  (Run with --output DIR to write the loss curve and the decision regions as SVG.)")
  }
}

/// A fraction as a percentage with one decimal: 0.543333 is "54.3%".
func percent(_ fraction: Double) -> String { String(format: "%.1f%%", fraction * 100) }
