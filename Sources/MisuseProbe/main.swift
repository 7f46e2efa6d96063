import Backprop
import Foundation

// Misuses the library in one of several ways, named by the first argument, so that a test can
// build this in release mode and read the message each one prints: Swift drops `precondition`
// messages under -O, and Backprop's must survive it. Each case must stop the process.

let cases: [String: () -> Void] = [
  "broadcast": { _ = Variable([1, 2, 3]) + Variable([1, 2, 3, 4]) },
  "twoTapes": { _ = Tape().variable([1]) + Tape().variable([2]) },
  "nonScalarGradient": { _ = gradient(at: [1, 2, 3]) { $0 * 2 } },
  "reshape": { _ = Variable([1, 2, 3]).reshaped(to: [2, 2]) },
  "matmul": { _ = matmul(Variable(.zeros([2, 3])), Variable(.zeros([2, 3]))) },
  "subscript": { _ = Variable([1, 2])[5] },
  "staleVariable": {
    let tape = Tape()
    let x = tape.variable([1])
    tape.reset()
    _ = x * 2
  },
  "label": { _ = crossEntropy(logits: Variable(.zeros([1, 3])), labels: [7]) },
  "softmaxOfScalar": { _ = composedSoftmax(Variable(2)) },
  "scalarCount": { _ = Tensor(shape: [2, 2], scalars: [1, 2, 3]) },
  "overflow": { _ = Tensor.zeros([1 << 32, 1 << 32]) },
  "backwardOfConstant": { Variable([1]).backward(seed: [1]) },
  "checkGradientOfNonScalar": { _ = checkGradient(at: [1, 2]) { $0 } },
]

guard CommandLine.arguments.count == 2, let misuse = cases[CommandLine.arguments[1]] else {
  print(cases.keys.sorted().joined(separator: "\n"))
  exit(CommandLine.arguments.count == 1 ? 0 : 2)
}
misuse()
print("no failure")
