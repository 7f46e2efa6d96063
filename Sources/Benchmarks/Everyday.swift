import Backprop
import BackpropKernels
import Foundation

// MARK: - W7: everyday formulas at n = 10⁶

/// Gradients of the formulas people write, at n = 10⁶, each against a hand-written loop that
/// computes the same value and gradient into buffers allocated once, outside the timing, with
/// the same kernels (the exponential, logarithm, tanh, sigmoid, sine and cosine kernels where
/// Backprop uses them, the C library elsewhere).
/// The target is ≤ 1.5× that loop; the peers are in peers.py.
func everydayFormulas(_ settings: Settings) -> [Row] {
  // Quick mode (what CI runs, in a release build) still takes 300,000 scalars: past the 2 MiB at
  // which tensors get buffers of their own and VJPs write in place, so that CI checks those
  // paths' gradients in release, against the loops below.
  let n = settings.quick ? 300_000 : 1_000_000
  var generator = SeededGenerator(seed: 7)
  let x = Tensor.random([n], in: 0.1...2, using: &generator)
  let t = Tensor.random([n], in: -1...1, using: &generator)
  let (xs, ts) = (x.scalars, t.scalars)
  var out = [Double](repeating: 0, count: n)
  var scratch = [Double](repeating: 0, count: n)

  /// A hand-written gradient: `body` fills `out` with the gradient and returns the value.
  func hand(
    _ body:
      @escaping (
        UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>,
        UnsafeMutableBufferPointer<Double>
      ) -> Double
  ) -> () -> Void {
    {
      let value = xs.withUnsafeBufferPointer { x in
        out.withUnsafeMutableBufferPointer { out in
          scratch.withUnsafeMutableBufferPointer { scratch in body(x, out, scratch) }
        }
      }
      consume(value)
    }
  }
  let formulas: [(String, (Variable) -> Variable, () -> Void)] = [
    (
      "x[0]", { $0[0] },
      hand { _, g, _ in
        for i in g.indices { g[i] = 0 }
        g[0] = 1
        return 0
      }
    ),
    (
      "sum(x)", { $0.sum() },
      hand { x, g, _ in
        var total = 0.0
        for i in x.indices {
          total += x[i]
          g[i] = 1
        }
        return total
      }
    ),
    (
      "sum(x * x)", { ($0 * $0).sum() },
      hand { x, g, _ in
        var total = 0.0
        for i in x.indices {
          total += x[i] * x[i]
          g[i] = 2 * x[i]
        }
        return total
      }
    ),
    ("sum(exp(x))", { exp($0).sum() }, hand { x, g, _ in exponentials(of: x, into: g) }),
    (
      "sum(log(x))", { log($0).sum() },
      hand { x, g, scratch in
        logarithms(of: x, into: scratch)
        var total = 0.0
        for i in x.indices {
          total += scratch[i]
          g[i] = 1 / x[i]
        }
        return total
      }
    ),
    (
      "sum(tanh(x))", { tanh($0).sum() },
      hand { x, g, scratch in
        hyperbolicTangents(of: x, into: scratch)
        var total = 0.0
        for i in x.indices {
          let y = scratch[i]
          total += y
          g[i] = 1 - y * y
        }
        return total
      }
    ),
    (
      "sum(sigmoid(x))", { sigmoid($0).sum() },
      hand { x, g, scratch in
        // σ by the same kernel; σ′ = y(1 − y), as a hand-written loop (and PyTorch) would.
        bp_sigmoids(x.baseAddress, scratch.baseAddress, x.count)
        var total = 0.0
        for i in x.indices {
          let y = scratch[i]
          total += y
          g[i] = y * (1 - y)
        }
        return total
      }
    ),
    (
      "sum(sin(x))", { sin($0).sum() },
      hand { x, g, scratch in
        bp_sines(x.baseAddress, scratch.baseAddress, x.count)
        bp_cosines(x.baseAddress, g.baseAddress, x.count)
        var total = 0.0
        for i in x.indices { total += scratch[i] }
        return total
      }
    ),
    (
      "logSumExp(x)", { logSumExp($0) },
      hand { x, g, _ in
        var m = -Double.infinity
        for v in x where v > m { m = v }
        let total = exponentials(of: x, minus: m, into: g)
        let scale = 1 / total
        for i in g.indices { g[i] *= scale }
        return m + Foundation.log(total)
      }
    ),
    (
      "logSoftmax(x)[0]", { logSoftmax($0)[0] },
      hand { x, g, _ in
        var m = -Double.infinity
        for v in x where v > m { m = v }
        let total = exponentials(of: x, minus: m, into: g)
        let scale = -1 / total
        for i in g.indices { g[i] *= scale }
        g[0] += 1
        return (x[0] - m) - Foundation.log(total)
      }
    ),
    (
      "meanSquaredError", { meanSquaredError(predicted: $0, expected: t) },
      hand { x, g, _ in
        var total = 0.0
        let scale = 2 / Double(x.count)
        ts.withUnsafeBufferPointer { t in
          for i in x.indices {
            let d = x[i] - t[i]
            total += d * d
            g[i] = scale * d
          }
        }
        return total / Double(x.count)
      }
    ),
    (
      "sum(relu(x - 1))", { relu($0 - 1).sum() },
      hand { x, g, _ in
        var total = 0.0
        for i in x.indices {
          let v = x[i] - 1
          total += v > 0 ? v : 0
          g[i] = v > 0 ? 1 : 0
        }
        return total
      }
    ),
    (
      "sum(max(x, t))", { max($0, Variable(t)).sum() },
      hand { x, g, _ in
        var total = 0.0
        ts.withUnsafeBufferPointer { t in
          for i in x.indices {
            total += Swift.max(x[i], t[i])
            g[i] = x[i] > t[i] ? 1 : x[i] == t[i] ? 0.5 : 0
          }
        }
        return total
      }
    ),
  ]
  var rows: [Row] = []
  for (name, formula, handWritten) in formulas
  where settings.formula.map({ name.contains($0) }) ?? true {
    // Each gradient is checked against its loop's before it is timed: the loops use the same
    // kernels, so they differ by at most a few roundings of the largest entry.
    let ours = gradient(at: x, of: formula).scalars
    handWritten()
    let largest = out.reduce(0) { Swift.max($0, abs($1)) }
    let worst = zip(ours, out).reduce(0) { Swift.max($0, abs($1.0 - $1.1)) }
    precondition(
      worst <= 1e-12 * Swift.max(largest, 1e-300),
      "W7 \(name): the gradient differs from the loop's by \(worst)")
    let times = medians(settings, [{ consume(gradient(at: x, of: formula)) }, handWritten])
    let faults = pageFaults { consume(gradient(at: x, of: formula)) }
    rows.append(
      Row(
        workload: "W7 ∇ \(name), n = \(n)", variant: "gradient", seconds: times[0],
        baseline: "hand-written, buffers reused", baselineSeconds: times[1], target: "≤ 1.5×",
        met: times[0] <= 1.5 * times[1], note: String(format: "%.1f page faults a call", faults)))
  }
  return rows
}
