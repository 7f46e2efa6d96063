import Backprop
import Foundation

/// A lesson being run: it prints what it teaches and checks every claim it makes.
struct Lesson {
  let number: Int
  let title: String
  /// Where to write pictures, if the learner asked for them.
  let output: URL?
  private(set) var failures = 0

  init(number: Int, title: String, output: URL?) {
    self.number = number
    self.title = title
    self.output = output
  }

  func heading() {
    let line = "Lesson \(number): \(title)"
    print(line)
    print(String(repeating: "=", count: line.count))
  }

  /// Prints a paragraph of explanation.
  func say(_ text: String) { print(text) }

  /// States a claim and checks it: ✓ when it holds, ✗ (and a failed lesson) when it does not.
  mutating func check(_ claim: String, _ holds: Bool) {
    print("  \(holds ? "✓" : "✗ FAILED:") \(claim)")
    if !holds { failures += 1 }
  }

  /// Writes a picture into the output folder, if there is one, and says where.
  func write(_ svg: String, to name: String) {
    guard let output else { return }
    let url = output.appendingPathComponent(name)
    do {
      try svg.write(to: url, atomically: true, encoding: .utf8)
      print("  wrote \(url.path)")
    } catch {
      print("  could not write \(url.path): \(error)")
    }
  }
}

struct LessonDefinition: Sendable {
  let number: Int
  let title: String
  let run: @Sendable (inout Lesson) -> Void
}

let lessons = [
  LessonDefinition(number: 1, title: "The chain rule by hand, then by the tape", run: chainRule),
  LessonDefinition(number: 2, title: "The reverse sweep, step by step", run: reverseSweep),
  LessonDefinition(
    number: 3, title: "Softmax's Jacobian and its vector-Jacobian product",
    run: softmaxJacobianLesson),
  LessonDefinition(number: 4, title: "Fused against composed softmax", run: fusedAgainstComposed),
  LessonDefinition(
    number: 5, title: "Mistakes from the wild, caught by a gradient check", run: mistakes),
  LessonDefinition(
    number: 6, title: "Softmax with cross-entropy: the gradient is p − y", run: crossEntropyLesson),
  LessonDefinition(number: 7, title: "Training a classifier on spirals", run: training),
  LessonDefinition(
    number: 8, title: "Second derivatives: differentiating the backward pass",
    run: secondDerivatives),
  LessonDefinition(
    number: 9, title: "Your own fused operation, and its check", run: customOperation),
  LessonDefinition(
    number: 10, title: "A model of layers on two moons, as micrograd's demo", run: twoMoonsLesson),
  LessonDefinition(
    number: 11, title: "Handwritten digits: a real data set, mini-batches and Adam",
    run: digitsLesson),
]

/// A tensor in at most six significant digits, for prose.
func show(_ tensor: Tensor) -> String {
  tensor.formatted { show($0) }
}

/// A number in at most six significant digits; NaN as `nan` whatever its sign bit.
func show(_ value: Double) -> String { value.isNaN ? "nan" : String(format: "%.6g", value) }
