import Backprop
import Foundation

/// Two interleaved half circles in the plane, as scikit-learn's `make_moons` draws them: the
/// upper moon (cos t, sin t) labelled −1, the lower (1 − cos t, ½ − sin t) labelled +1, t evenly
/// spaced on [0, π], each point moved by Gaussian noise.
func twoMoons(count: Int, noise: Double, generator: inout SeededGenerator) -> (
  x: Tensor, labels: [Double]
) {
  var scalars: [Double] = []
  var labels: [Double] = []
  let half = count / 2
  for moon in 0..<2 {
    for i in 0..<half {
      let t = Double.pi * Double(i) / Double(half - 1)
      let (x, y) = moon == 0 ? (cos(t), sin(t)) : (1 - cos(t), 0.5 - sin(t))
      let jitter = Tensor.normal([2], standardDeviation: noise, using: &generator).scalars
      scalars += [x + jitter[0], y + jitter[1]]
      labels.append(moon == 0 ? -1 : 1)
    }
  }
  return (Tensor(shape: [2 * half, 2], scalars: scalars), labels)
}

func twoMoonsLesson(_ lesson: inout Lesson) {
  var generator = SeededGenerator(seed: 1337)
  let (x, labels) = twoMoons(count: 100, noise: 0.1, generator: &generator)
  let y = Variable(Tensor(shape: [labels.count, 1], scalars: labels))
  let model = MLP(sizes: [2, 16, 16, 1], activation: .relu, using: &generator)
  lesson.say(
    """
    Data: 100 points on two interleaved moons, labelled −1 and +1, generated here.

    The model is MLP(sizes: [2, 16, 16, 1]): three Linear layers with relu between them,
    \(model.parameterCount) parameters, found by reflection with their paths:
    \(model.namedParameters.map { "\($0.path) \($0.parameter.value.shape)" }.joined(separator: ", ")).

    The loss is the max-margin (SVM) loss, mean(relu(1 − y · score)), plus 10⁻⁴ Σ p² over
    every parameter; each step is one model.valueWithGradient { … } and one SGD update, its
    learning rate falling linearly from 1 to 0.1 over the steps.
    """)
  let input = Variable(x)
  func loss(_ m: MLP) -> Variable {
    let margins = relu(1 - y * m(input)).mean()
    let penalty = m.parameters.map { ($0.variable * $0.variable).sum() }.reduce(Variable(0), +)
    return margins + 1e-4 * penalty
  }
  func accuracy() -> Double {
    let scores = model(input).value.scalars
    return Double(zip(scores, labels).filter { ($0 > 0) == ($1 > 0) }.count)
      / Double(labels.count)
  }

  var optimizer = SGD(learningRate: 1)
  let steps = 100
  var losses: [Double] = []
  for step in 0..<steps {
    optimizer.learningRate = 1 - 0.9 * Double(step) / Double(steps)
    let (value, gradients) = model.valueWithGradient(of: loss)
    losses.append(value.scalar!)
    optimizer.update(model, along: gradients)
    if step % 20 == 0 || step == steps - 1 {
      lesson.say(
        "    step \(String(step).padding(toLength: 4, withPad: " ", startingAt: 0)) loss \(show(losses.last!))   accuracy \(percent(accuracy()))"
      )
    }
  }
  lesson.check(
    "the loss fell from \(show(losses[0])) to \(show(losses.last!))", losses.last! < losses[0] / 5)
  lesson.check(
    "every training point is classified correctly: \(percent(accuracy()))", accuracy() == 1)

  // The decision boundary: the sign of the score over a grid, the points on top.
  let cells = 80
  let bounds = (-1.6, 2.6)
  let coordinates = (0..<cells).map {
    bounds.0 + (bounds.1 - bounds.0) * (Double($0) + 0.5) / Double(cells)
  }
  let grid = Tensor(
    shape: [cells * cells, 2],
    scalars: coordinates.flatMap { y in coordinates.flatMap { x in [x, y] } })
  let predicted = model(Variable(grid)).value.scalars.map { $0 > 0 ? 1 : 0 }
  let rows = (0..<cells).map { row in Array(predicted[(row * cells)..<((row + 1) * cells)]) }
  let points = (0..<labels.count).map { (x[$0, 0], x[$0, 1], labels[$0] > 0 ? 1 : 0) }
  lesson.write(
    SVG.decisionRegions(
      title: "Two moons: the MLP's decision boundary", bounds: bounds, grid: rows, points: points),
    to: "two-moons.svg")
  if lesson.output == nil {
    lesson.say("\n  (Run with --output DIR to write the decision boundary as SVG.)")
  }
}
