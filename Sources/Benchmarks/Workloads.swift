import Backprop
import Foundation
import _Differentiation

// Each workload times Backprop and its baselines in this process, in this run, and reports
// ratios: this machine is shared, so absolute times drift while ratios hold.

// MARK: - W1: a chain of rank-0 operations

@differentiable(reverse)
func chainForAutoDiff(_ y0: Double, steps: Int) -> Double {
  var y = y0
  for _ in 0..<steps { y = Foundation.tanh(1.01 * y + 0.1) }
  return y
}

func scalarChain(_ settings: Settings) -> [Row] {
  let steps = settings.quick ? 100 : 1000
  var entries = 0
  func backprop() -> Double {
    let tape = Tape()
    let x = tape.variable(Tensor(0.3))
    var y = x
    for _ in 0..<steps { y = tanh(1.01 * y + 0.1) }
    entries = tape.count
    return tape.gradient(of: y, wrt: x).scalar!
  }
  func forward() -> Double {
    var y = 0.3
    for _ in 0..<steps { y = Foundation.tanh(1.01 * y + 0.1) }
    return y
  }
  func handWritten() -> Double {
    var outputs = [Double](repeating: 0, count: steps)
    var y = 0.3
    for step in 0..<steps {
      y = Foundation.tanh(1.01 * y + 0.1)
      outputs[step] = y
    }
    var gradient = 1.0
    for step in stride(from: steps - 1, through: 0, by: -1) {
      gradient *= (1 - outputs[step] * outputs[step]) * 1.01
    }
    return gradient
  }
  func compiler() -> Double { gradient(at: 0.3) { chainForAutoDiff($0, steps: steps) } }

  let (ours, theirs, hand) = (backprop(), compiler(), handWritten())
  precondition(abs(ours - theirs) <= 1e-9 * abs(theirs) && abs(ours - hand) <= 1e-9 * abs(hand))

  let times = medians(settings, [{ consume(backprop()) }, { consume(compiler()) }])
  let (tapeTime, compilerTime) = (times[0], times[1])
  let handTime = median(settings) { consume(handWritten()) }
  let forwardTime = median(settings) { consume(forward()) }
  let perEntry = tapeTime / Double(entries)
  let name = "W1 chain of \(steps)"
  return [
    Row(
      workload: name, variant: "record + sweep", seconds: tapeTime, baseline: "_Differentiation",
      baselineSeconds: compilerTime, target: "≤ 1.0×", met: tapeTime <= compilerTime),
    Row(
      workload: name, variant: "per tape entry", seconds: perEntry, baseline: "—",
      baselineSeconds: perEntry,
      target: "≤ 50 ns", met: perEntry <= 50e-9, note: "\(entries) entries"),
    Row(
      workload: name, variant: "record + sweep", seconds: tapeTime,
      baseline: "hand-written gradient",
      baselineSeconds: handTime, target: "", met: nil),
    Row(
      workload: name, variant: "record + sweep", seconds: tapeTime, baseline: "plain forward",
      baselineSeconds: forwardTime, target: "", met: nil, note: "cheap-gradient ratio"),
  ]
}

// MARK: - W2: cross-entropy with one label, that is the gradient of −logSoftmax(x)[0]

/// The same gradient by hand: p = softmax(x) with the max subtracted, then p₀ − 1. It uses
/// Backprop's exponential kernel, as the target asks: the comparison is of everything else.
func handWrittenCrossEntropyGradient(_ x: [Double]) -> [Double] {
  let maximum = x.max()!
  var gradient = [Double](repeating: 0, count: x.count)
  let total = x.withUnsafeBufferPointer { x in
    gradient.withUnsafeMutableBufferPointer { exponentials(of: x, minus: maximum, into: $0) }
  }
  let scale = 1 / total
  for index in x.indices { gradient[index] *= scale }
  gradient[0] -= 1
  return gradient
}

@differentiable(reverse)
func crossEntropyForAutoDiff(_ x: [Double]) -> Double {
  let maximum = withoutDerivative(at: x.max()!)
  var total = 0.0
  for index in withoutDerivative(at: x.indices) { total += Foundation.exp(x[index] - maximum) }
  return maximum + Foundation.log(total) - x[0]
}

func crossEntropyGradient(_ settings: Settings) -> [Row] {
  var rows: [Row] = []
  let sizes = settings.quick ? [10, 100] : [10, 1_000, 1_000_000]
  for n in sizes {
    var generator = SeededGenerator(seed: UInt64(n))
    let scalars = (0..<n).map { _ in Double.random(in: -3...3, using: &generator) }
    let x = Tensor(shape: [1, n], scalars: scalars)
    let fused: (Variable) -> Variable = { crossEntropy(logits: $0, labels: [0]) }
    let composed: (Variable) -> Variable = { composedCrossEntropy(logits: $0, labels: [0]) }
    let hand = handWrittenCrossEntropyGradient(scalars)
    for f in [fused, composed] {
      let g = gradient(at: x, of: f).scalars
      precondition(zip(g, hand).allSatisfy { abs($0 - $1) <= 1e-12 })
    }
    let fusedTime = median(settings) { consume(gradient(at: x, of: fused)) }
    let composedTime = median(settings) { consume(gradient(at: x, of: composed)) }
    let forwardTime = median(settings) { consume(fused(Variable(x))) }
    let composedForwardTime = median(settings) { consume(composed(Variable(x))) }
    let handTime = median(settings) { consume(handWrittenCrossEntropyGradient(scalars)) }
    let name = "W2 cross-entropy n=\(n)"
    // At n = 10⁶ the target is a ratio to the hand-written gradient instead.
    let absolute = n == 10 ? 1e-6 : 10e-6
    let absoluteText = n == 10 ? "≤ 1 µs" : "≤ 10 µs"
    rows.append(
      Row(
        workload: name, variant: "fused", seconds: fusedTime, baseline: "hand-written gradient",
        baselineSeconds: handTime, target: n == 1_000_000 ? "≤ 1.2×" : absoluteText,
        met: n == 1_000_000 ? fusedTime <= 1.2 * handTime : fusedTime <= absolute))
    rows.append(
      Row(
        workload: name, variant: "fused", seconds: fusedTime, baseline: "forward alone",
        baselineSeconds: forwardTime, target: n == 1_000_000 ? "≤ 2×" : "",
        met: n == 1_000_000 ? fusedTime <= 2 * forwardTime : nil))
    // Each form's cheap-gradient ratio is against its own forward pass.
    rows.append(
      Row(
        workload: name, variant: "composed", seconds: composedTime,
        baseline: "composed forward alone",
        baselineSeconds: composedForwardTime, target: n == 1_000_000 ? "≤ 3×" : "",
        met: n == 1_000_000 ? composedTime <= 3 * composedForwardTime : nil))
    if n <= 1_000 {
      let compilerTime = median(settings) {
        consume(gradient(at: scalars, of: crossEntropyForAutoDiff))
      }
      rows.append(
        Row(
          workload: name, variant: "fused", seconds: fusedTime,
          baseline: "_Differentiation on [Double]",
          baselineSeconds: compilerTime, target: "", met: nil))
    }
  }
  return rows + exponentialKernel(settings)
}

/// The exponential alone at n = 10⁶ (or 10³ quick): Backprop's vectorized kernel against
/// Foundation's `exp` in a loop, both writing a preallocated buffer.
func exponentialKernel(_ settings: Settings) -> [Row] {
  let n = settings.quick ? 1_000 : 1_000_000
  var generator = SeededGenerator(seed: 5)
  let source = (0..<n).map { _ in Double.random(in: -20...0, using: &generator) }
  var destination = [Double](repeating: 0, count: n)
  let kernelTime = median(settings) {
    source.withUnsafeBufferPointer { source in
      destination.withUnsafeMutableBufferPointer { consume(exponentials(of: source, into: $0)) }
    }
  }
  let foundationTime = median(settings) {
    source.withUnsafeBufferPointer { source in
      destination.withUnsafeMutableBufferPointer { out in
        for index in 0..<n { out[index] = Foundation.exp(source[index]) }
      }
    }
    consume(destination)
  }
  return [
    Row(
      workload: "W2 exp n=\(n)", variant: "vectorized kernel", seconds: kernelTime,
      baseline: "Foundation.exp loop", baselineSeconds: foundationTime, target: "", met: nil,
      note: String(
        format: "%.2f ns per element, Foundation %.2f", kernelTime / Double(n) * 1e9,
        foundationTime / Double(n) * 1e9))
  ]
}

// MARK: - W3: the softmax Jacobian

func softmaxJacobianWorkload(_ settings: Settings) -> [Row] {
  let n = settings.quick ? 10 : 100
  var generator = SeededGenerator(seed: 3)
  let x = Tensor((0..<n).map { _ in Double.random(in: -3...3, using: &generator) })
  func analytic() -> [Double] {
    let s = softmax(x).scalars
    var j = [Double](repeating: 0, count: n * n)
    for row in 0..<n {
      for column in 0..<n {
        j[row * n + column] = (row == column ? s[row] : 0) - s[row] * s[column]
      }
    }
    return j
  }
  let fusedTime = median(settings) { consume(jacobian(at: x, of: softmax)) }
  let composedTime = median(settings) { consume(jacobian(at: x, of: composedSoftmax)) }
  let analyticTime = median(settings) { consume(analytic()) }
  let name = "W3 softmax Jacobian n=\(n)"
  return [
    Row(
      workload: name, variant: "fused", seconds: fusedTime, baseline: "diag(s) − s sᵀ by hand",
      baselineSeconds: analyticTime, target: "≤ 50 µs", met: fusedTime <= 50e-6),
    Row(
      workload: name, variant: "composed", seconds: composedTime,
      baseline: "diag(s) − s sᵀ by hand",
      baselineSeconds: analyticTime, target: "", met: nil),
  ]
}

// MARK: - W4: a step of the linear softmax classifier

/// Loss and dW of the classifier by hand: dW = Xᵀ(P − Y)/N + 2·reg·W, with Backprop's
/// exponential kernel.
func handWrittenClassifier(
  x: [Double], w: [Double], labels: [Int], n: Int, d: Int, c: Int, reg: Double
) -> (Double, [Double]) {
  var scores = [Double](repeating: 0, count: n * c)
  for i in 0..<n {
    for p in 0..<d {
      let xip = x[i * d + p]
      for j in 0..<c { scores[i * c + j] += xip * w[p * c + j] }
    }
  }
  var loss = 0.0
  for i in 0..<n {
    let row = (i * c)..<((i + 1) * c)
    let maximum = scores[row].max()!
    let total = scores.withUnsafeMutableBufferPointer { scores in
      let slice = UnsafeMutableBufferPointer(rebasing: scores[row])
      return exponentials(of: UnsafeBufferPointer(slice), minus: maximum, into: slice)
    }
    for k in row { scores[k] /= total }
    loss -= Foundation.log(scores[i * c + labels[i]])
    scores[i * c + labels[i]] -= 1
  }
  var dW = [Double](repeating: 0, count: d * c)
  for i in 0..<n {
    for p in 0..<d {
      let xip = x[i * d + p]
      for j in 0..<c { dW[p * c + j] += xip * scores[i * c + j] }
    }
  }
  var penalty = 0.0
  for k in dW.indices {
    dW[k] = dW[k] / Double(n) + 2 * reg * w[k]
    penalty += w[k] * w[k]
  }
  return (loss / Double(n) + reg * penalty, dW)
}

func classifierStep(_ settings: Settings) -> [Row] {
  let (n, d, c, reg) = settings.quick ? (16, 8, 10, 0.1) : (512, 64, 10, 0.1)
  var generator = SeededGenerator(seed: 4)
  let xs = (0..<(n * d)).map { _ in Double.random(in: -1...1, using: &generator) }
  let ws = (0..<(d * c)).map { _ in Double.random(in: -0.01...0.01, using: &generator) }
  let labels = (0..<n).map { _ in Int.random(in: 0..<c, using: &generator) }
  let x = Tensor(shape: [n, d], scalars: xs)
  let w = Tensor(shape: [d, c], scalars: ws)
  let constantX = Variable(x)
  let loss: (Variable) -> Variable = { w in
    crossEntropy(logits: matmul(constantX, w), labels: labels) + reg * (w * w).sum()
  }
  let (value, dW) = valueWithGradient(at: w, of: loss)
  let (handValue, handDW) = handWrittenClassifier(
    x: xs, w: ws, labels: labels, n: n, d: d, c: c, reg: reg)
  precondition(
    abs(value.scalar! - handValue) <= 1e-12
      && zip(dW.scalars, handDW).allSatisfy { abs($0 - $1) <= 1e-12 })
  let ours = median(settings) { consume(valueWithGradient(at: w, of: loss)) }
  let hand = median(settings) {
    consume(handWrittenClassifier(x: xs, w: ws, labels: labels, n: n, d: d, c: c, reg: reg))
  }
  let name = "W4 classifier \(n)×\(d)→\(c)"
  return [
    Row(
      workload: name, variant: "loss + dW", seconds: ours, baseline: "hand-written loss + dW",
      baselineSeconds: hand, target: "≤ 1.5×", met: ours <= 1.5 * hand)
  ]
}

// MARK: - W5: elementwise bandwidth

func elementwise(_ settings: Settings) -> [Row] {
  let n = settings.quick ? 10_000 : 10_000_000
  let a = Tensor(repeating: 1.5, shape: [n])
  let b = Tensor(repeating: 2.5, shape: [n])
  let source = [Double](repeating: 1.5, count: n)
  var destination = [Double](repeating: 0, count: n)
  let copyTime = median(settings) {
    source.withUnsafeBufferPointer { from in
      destination.withUnsafeMutableBufferPointer { to in
        for index in 0..<n { to[index] = from[index] }
      }
    }
    consume(destination)
  }
  let addTime = median(settings) { consume(a + b) }
  let multiplyTime = median(settings) { consume(a * b) }
  // A copy moves 2 × 8n bytes; an add or multiply moves 3 × 8n (two reads, one write).
  let copyBandwidth = Double(16 * n) / copyTime
  func row(_ variant: String, _ seconds: Double) -> Row {
    let fraction = Double(24 * n) / seconds / copyBandwidth
    return Row(
      workload: "W5 elementwise n=\(n)", variant: variant, seconds: seconds, baseline: "copy loop",
      baselineSeconds: copyTime, target: "≥ 50% bandwidth", met: fraction >= 0.5,
      note: String(
        format: "%.0f%% of copy bandwidth (%.1f GB/s)", fraction * 100,
        Double(24 * n) / seconds / 1e9))
  }
  return [row("a + b", addTime), row("a * b", multiplyTime)]
}

// MARK: - W6: memory

func memory(_ settings: Settings) -> [Row] {
  let steps = settings.quick ? 10_000 : 10_000_000
  let before = residentBytes()
  let clock = ContinuousClock()
  var peak = 0
  let elapsed = clock.measure {
    let tape = Tape()
    let x = tape.variable(Tensor(0.5))
    var y = x
    for _ in 0..<steps { y = tanh(y) }
    peak = residentBytes()
    consume(tape.gradient(of: y, wrt: x))
  }
  let bytesPerEntry = Double(peak - before) / Double(steps + 1)
  let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
  return [
    Row(
      workload: "W6 chain of \(steps) tanh", variant: "bytes per rank-0 entry", seconds: seconds,
      baseline: "—", baselineSeconds: seconds, target: "≤ 64 B", met: bytesPerEntry <= 64,
      note: String(
        format: "%.0f B per entry recorded, %.0f MB resident at peak", bytesPerEntry,
        Double(peak) / 1e6))
  ]
}
