import Backprop
import Foundation
import Testing
import _Differentiation

// The same scalar functions written twice: once for Backprop, once as plain Swift that the
// compiler differentiates (`_Differentiation`, shipped with the toolchain). Two independent
// implementations of reverse mode must agree to rounding.

@differentiable(reverse)
private func chain(_ y0: Double) -> Double {
  var y = y0
  for _ in 0..<50 { y = Foundation.tanh(1.01 * y + 0.1) }
  return y
}

@differentiable(reverse)
private func elementary(_ x: Double) -> Double {
  Foundation.exp(x) * Foundation.log(x + 2) / Foundation.sqrt(x + 3) + Foundation.pow(x, 3) - 1
    / (x * x + 1)
}

@differentiable(reverse)
private func logistic(_ x: Double, _ w: Double) -> Double {
  let z = x * w - 0.5
  return Foundation.log(1 + Foundation.exp(-z)) + 0.5 * w * w
}

/// log Σ eˣⁱ over an array, with the max subtracted; the max is held constant, which leaves the
/// gradient unchanged (it cancels).
@differentiable(reverse)
private func logSumExpArray(_ x: [Double]) -> Double {
  let m = withoutDerivative(at: x.max()!)
  var total = 0.0
  for i in withoutDerivative(at: x.indices) { total += Foundation.exp(x[i] - m) }
  return m + Foundation.log(total)
}

/// Σ wᵢ softmax(x)ᵢ, spelled out in loops.
@differentiable(reverse)
private func weightedSoftmax(_ x: [Double]) -> Double {
  let weights = [1.0, -2, 0.5, 3, -1]
  var total = 0.0
  for i in withoutDerivative(at: x.indices) { total += Foundation.exp(x[i]) }
  var result = 0.0
  for i in withoutDerivative(at: x.indices) { result += weights[i] * Foundation.exp(x[i]) / total }
  return result
}

@Suite("Against Swift's _Differentiation")
struct DifferentiationOracleTests {
  @Test(arguments: [-1.5, -0.3, 0, 0.7, 1.5])
  func scalarFunctions(x: Double) {
    let ours = Backprop.gradient(at: Tensor(x)) { y0 in
      var y = y0
      for _ in 0..<50 { y = tanh(1.01 * y + 0.1) }
      return y
    }
    #expect(abs(ours.scalar! - _Differentiation.gradient(at: x, of: chain)) <= 1e-12)

    let elementaryOurs = Backprop.gradient(at: Tensor(x)) { x in
      exp(x) * log(x + 2) / sqrt(x + 3) + pow(x, 3) - 1 / (x * x + 1)
    }
    let elementaryTheirs = _Differentiation.gradient(at: x, of: elementary)
    #expect(
      abs(elementaryOurs.scalar! - elementaryTheirs) <= 1e-12 * Swift.max(1, abs(elementaryTheirs)))

    let (gx, gw) = Backprop.gradient(at: Tensor(x), Tensor(0.8)) { x, w in
      let z = x * w - 0.5
      return log(1 + exp(-z)) + 0.5 * w * w
    }
    let (tx, tw) = _Differentiation.gradient(at: x, 0.8, of: logistic)
    #expect(abs(gx.scalar! - tx) <= 1e-12 && abs(gw.scalar! - tw) <= 1e-12)
  }

  @Test(arguments: 0..<5)
  func vectorFunctions(seed: Int) {
    var generator = SeededGenerator(seed: UInt64(seed))
    let x = Tensor.random([5], scale: 4, using: &generator)
    let theirs = _Differentiation.gradient(at: x.scalars, of: logSumExpArray)
    expectClose(Backprop.gradient(at: x) { logSumExp($0) }, Tensor(theirs.base), tolerance: 1e-12)

    let weights: Tensor = [1, -2, 0.5, 3, -1]
    let softmaxTheirs = Tensor(_Differentiation.gradient(at: x.scalars, of: weightedSoftmax).base)
    expectClose(
      Backprop.gradient(at: x) { (softmax($0) * weights).sum() }, softmaxTheirs, tolerance: 1e-12)
    expectClose(
      Backprop.gradient(at: x) { (composedSoftmax($0) * weights).sum() }, softmaxTheirs,
      tolerance: 1e-12)
  }
}
