import Backprop

// Softmax of [1, 2]: the fused tape entry, the composed one, and the formula diag(s) − s sᵀ.
// Each figure is checked, not only printed, so a wrong engine makes this program fail.

let x: Tensor = [1, 2]
let s = softmax(x)
let fused = jacobian(at: x, of: softmax)
let composed = jacobian(at: x, of: composedSoftmax)
let analytic = softmaxJacobian(at: x)
let numerical = numericalJacobian(at: x, of: softmax)

func show(_ title: String, _ tensor: Tensor) {
  print(title.padding(toLength: 34, withPad: " ", startingAt: 0), tensor.formatted { "\($0)" })
}

show("x", x)
show("softmax(x)", s)
show("Jacobian, fused (one tape entry)", fused)
show("Jacobian, composed (five entries)", composed)
show("Jacobian, analytic diag(s) − s sᵀ", analytic)
show("Jacobian, central differences", numerical)

let differences = [
  ("fused vs composed", fused.maxAbsoluteDifference(from: composed), 1e-12),
  ("fused vs analytic", fused.maxAbsoluteDifference(from: analytic), 1e-12),
  ("composed vs analytic", composed.maxAbsoluteDifference(from: analytic), 1e-12),
  ("fused vs central differences", fused.maxAbsoluteDifference(from: numerical), 1e-8),
]
print("\nlargest absolute differences:")
var failed = false
for (name, difference, tolerance) in differences {
  let ok = difference <= tolerance
  failed = failed || !ok
  print(
    "  \(name.padding(toLength: 30, withPad: " ", startingAt: 0)) \(difference)  \(ok ? "≤" : "> FAIL") \(tolerance)"
  )
}
let expected = Tensor(shape: [2], scalars: [0.26894142, 0.73105858])
if !s.isApproximatelyEqual(to: expected, absoluteTolerance: 5e-9) {
  print("FAIL: softmax([1, 2]) is \(s), expected \(expected)")
  failed = true
}
let tape = Tape()
let a = tape.variable(x)
let y = logSumExp(a)
y.backward()
print("\nThe tape of logSumExp([1, 2]) after backward():\n\(tape)")
if failed { fatalError("a figure above is wrong") }
