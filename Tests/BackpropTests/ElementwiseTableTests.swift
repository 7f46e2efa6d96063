import Foundation
import Testing

@testable import Backprop

@Suite("The elementwise table the command reads")
struct ElementwiseTableTests {
  /// The public functions by name, written out here so that the table is checked against
  /// them rather than against itself.
  static let publicFunctions: [String: @Sendable (Variable) -> Variable] = [
    "exp": { exp($0) }, "log": { log($0) }, "sqrt": { sqrt($0) }, "tanh": { tanh($0) },
    "sigmoid": { sigmoid($0) }, "sin": { sin($0) }, "cos": { cos($0) }, "tan": { tan($0) },
    "asin": { asin($0) }, "acos": { acos($0) }, "atan": { atan($0) }, "sinh": { sinh($0) },
    "cosh": { cosh($0) }, "asinh": { asinh($0) }, "acosh": { acosh($0) },
    "atanh": { atanh($0) }, "exp2": { exp2($0) }, "expm1": { expm1($0) },
    "log2": { log2($0) }, "log10": { log10($0) }, "log1p": { log1p($0) }, "abs": { abs($0) },
    "sign": { sign($0) }, "square": { square($0) }, "reciprocal": { reciprocal($0) },
    "rsqrt": { rsqrt($0) }, "erf": { erf($0) }, "erfc": { erfc($0) },
    "softplus": { softplus($0) }, "logSigmoid": { logSigmoid($0) }, "relu": { relu($0) },
    "swish": { swish($0) }, "gelu": { gelu($0) },
  ]

  @Test("Each entry is its public function: the same name in a listing, value and gradient bits")
  func entriesAreThePublicFunctions() {
    let table = Variable.elementwiseFunctions
    #expect(Set(table.map(\.name)) == Set(Self.publicFunctions.keys))
    #expect(table.count == Self.publicFunctions.count)
    let inputs = Tensor([
      0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 0.5, -0.5, 1, -1, 2.5, 700,
      -700, 1e300, -1e300, .infinity, -.infinity, .nan,
    ])
    func bits(_ t: Tensor) -> [UInt64] { t.scalars.map { $0.isNaN ? 1 : $0.bitPattern } }
    for entry in table {
      guard let reference = Self.publicFunctions[entry.name] else { continue }
      let (ours, theirs) = (entry.apply(Variable(inputs)).value, reference(Variable(inputs)).value)
      #expect(bits(ours) == bits(theirs), "\(entry.name)'s value")
      // x used twice, so that each contribution and their sum are compared too.
      let ourGradient = gradient(at: inputs) { x in (entry.apply(x) * x).sum() }
      let theirGradient = gradient(at: inputs) { x in (reference(x) * x).sum() }
      #expect(bits(ourGradient) == bits(theirGradient), "\(entry.name)'s gradient")

      let tape = Tape()
      _ = entry.apply(tape.variable(inputs))
      #expect(tape.entries.last!.name == entry.name, "\(entry.name) lists as itself")
      let keeps = entry.name == "gelu" || entry.name == "swish"
      #expect(entry.keepsDerivative == keeps, "\(entry.name) keeps y′: \(keeps)")
    }
  }
}
