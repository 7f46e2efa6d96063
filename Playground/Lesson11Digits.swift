import Backprop
import Foundation

/// The digits of DigitsData.swift: images as rows of 64 pixels scaled to [0, 1], and labels.
func digits() -> (images: [[Double]], labels: [Int]) {
  var images: [[Double]] = []
  var labels: [Int] = []
  for line in digitsData.split(separator: "\n") {
    let characters = Array(line)
    images.append(characters[0..<64].map { Double(Int(String($0), radix: 17)!) / 16 })
    labels.append(Int(String(characters[64]))!)
  }
  return (images, labels)
}

/// The rows of `images` at `indices` as one [count, 64] tensor.
func batchTensor(_ images: [[Double]], _ indices: [Int]) -> Tensor {
  Tensor(shape: [indices.count, 64], scalars: indices.flatMap { images[$0] })
}

func digitsLesson(_ lesson: inout Lesson) {
  let (images, labels) = digits()
  var generator = SeededGenerator(seed: 2026)
  // A fixed split: 80% to train on, 20% held out.
  let order = shuffledBatches(count: images.count, batchSize: images.count, using: &generator)[0]
  let (train, test) = (Array(order[..<1437]), Array(order[1437...]))
  let model = MLP(sizes: [64, 32, 10], activation: .relu, using: &generator)
  let (epochs, batchSize) = (20, 32)
  lesson.say(
    """
    Data: the UCI handwritten digits, 1,797 images of 8 × 8 pixels (Playground/DigitsData.swift,
    from scikit-learn's copy; CC BY 4.0), split by a fixed seed into \(train.count) to train on
    and \(test.count) held out.

    The model is MLP(sizes: [64, 32, 10]), \(model.parameterCount) parameters; the loss the mean
    cross-entropy of its logits; Adam (η = 0.01) in shuffled mini-batches of \(batchSize), \(epochs)
    epochs, each a line of progress.
    """)
  let testImages = Variable(batchTensor(images, test))
  let testLabels = test.map { labels[$0] }
  var optimizer = Adam(learningRate: 0.01)
  var losses: [Double] = []
  let start = Date()
  for epoch in 1...epochs {
    let epochStart = Date()
    var total = 0.0
    let batches = shuffledBatches(count: train.count, batchSize: batchSize, using: &generator)
    for (position, batch) in batches.enumerated() {
      let indices = batch.map { train[$0] }
      let x = Variable(batchTensor(images, indices))
      let y = indices.map { labels[$0] }
      let (loss, gradients) = model.valueWithGradient { m in crossEntropy(logits: m(x), labels: y) }
      optimizer.update(model, along: gradients)
      losses.append(loss.scalar!)
      total += loss.scalar! * Double(batch.count)
      progress(position + 1, of: batches.count)
    }
    let trainAccuracy = accuracy(
      logits: model(Variable(batchTensor(images, train))).value, labels: train.map { labels[$0] })
    let testAccuracy = accuracy(logits: model(testImages).value, labels: testLabels)
    lesson.say(
      "    epoch \(String(epoch).padding(toLength: 3, withPad: " ", startingAt: 0)) loss \(show(total / Double(train.count)))   train \(percent(trainAccuracy))   test \(percent(testAccuracy))   \(String(format: "%.0f", Date().timeIntervalSince(epochStart) * 1000)) ms"
    )
  }
  let predicted = model(testImages).value.argmax(alongAxis: 1).scalars.map { Int($0) }
  let testAccuracy = accuracy(logits: model(testImages).value, labels: testLabels)
  lesson.check("test accuracy is at least 95%: \(percent(testAccuracy))", testAccuracy >= 0.95)
  lesson.check(
    "the loss fell from \(show(losses[0])) (ln 10 ≈ 2.30 is chance) to \(show(losses.last!))",
    losses.last! < 0.2 && abs(losses[0] - log(10)) < 0.5)
  lesson.say(
    "    \(epochs) epochs of \(losses.count / epochs) steps in \(String(format: "%.2f", Date().timeIntervalSince(start))) s"
  )

  var confusion = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10)
  for (truth, guess) in zip(testLabels, predicted) { confusion[truth][guess] += 1 }
  lesson.check(
    "the confusion matrix accounts for every held-out image",
    confusion.joined().reduce(0, +) == test.count)
  lesson.write(
    SVG.linePlot(
      title: "Digits: training loss per mini-batch", xLabel: "step", yLabel: "cross-entropy",
      series: [
        .init(
          name: "MLP 64-32-10 (test \(percent(testAccuracy)))", color: SVG.classColors[0],
          points: losses.enumerated().map { (Double($0.offset), $0.element) })
      ]),
    to: "digits-loss.svg")
  lesson.write(confusionMatrix(confusion), to: "digits-confusion.svg")
  if lesson.output == nil {
    lesson.say(
      "\n  (Run with --output DIR to write the loss curve and the confusion matrix as SVG.)")
  }
}

/// A bar of progress on standard error, while a long run is on a terminal; nothing otherwise.
func progress(_ done: Int, of total: Int) {
  guard isatty(STDERR_FILENO) != 0 else { return }
  let width = 30
  let filled = done * width / total
  let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
  FileHandle.standardError.write(
    Data("\r  [\(bar)] \(done)/\(total)\(done == total ? "\r" : "")".utf8))
  if done == total {
    FileHandle.standardError.write(Data((String(repeating: " ", count: width + 20) + "\r").utf8))
  }
}

/// A 10 × 10 grid of counts, true digit by row and predicted by column, shaded by count.
func confusionMatrix(_ counts: [[Int]]) -> String {
  let cell = 36.0
  let (left, top) = (70.0, 60.0)
  let largest = Double(counts.joined().max() ?? 1)
  var body = ""
  body += "<text x=\"\(left + 5 * cell)\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">"
  body += "Digits: the confusion matrix of the held-out images</text>\n"
  body +=
    "<text x=\"\(left + 5 * cell)\" y=\"48\" text-anchor=\"middle\" font-size=\"12\">predicted</text>\n"
  body +=
    "<text x=\"20\" y=\"\(top + 5 * cell)\" font-size=\"12\" transform=\"rotate(-90 20 \(top + 5 * cell))\" text-anchor=\"middle\">true</text>\n"
  for row in 0..<10 {
    body +=
      "<text x=\"\(left - 10)\" y=\"\(top + (Double(row) + 0.65) * cell)\" text-anchor=\"end\" font-size=\"12\">\(row)</text>\n"
    body +=
      "<text x=\"\(left + (Double(row) + 0.5) * cell)\" y=\"\(top + 10.6 * cell)\" text-anchor=\"middle\" font-size=\"12\">\(row)</text>\n"
    for column in 0..<10 {
      let count = counts[row][column]
      let shade = Int(255 - 200 * Double(count) / largest)
      let fill = row == column ? "rgb(\(shade),\(shade),255)" : "rgb(255,\(shade),\(shade))"
      let (x, y) = (left + Double(column) * cell, top + Double(row) * cell)
      body +=
        "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"\(fill)\" stroke=\"#ccc\"/>\n"
      if count > 0 {
        body +=
          "<text x=\"\(x + cell / 2)\" y=\"\(y + cell * 0.62)\" text-anchor=\"middle\" font-size=\"12\">\(count)</text>\n"
      }
    }
  }
  return """
    <svg xmlns="http://www.w3.org/2000/svg" width="\(left + 11 * cell)" height="\(top + 11.2 * cell)" font-family="sans-serif">
    <rect width="100%" height="100%" fill="white"/>
    \(body)</svg>
    """
}
