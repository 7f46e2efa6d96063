import Backprop
import BackpropCommand
import Foundation
import Testing

/// Runs the command in-process and parses its JSON output.
func runJSON(_ arguments: [String]) throws -> [String: Any] {
  let result = runCommand(arguments + ["--json"])
  #expect(result.status == 0, "\(arguments): \(result.errors)")
  let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8))
  return try #require(object as? [String: Any])
}

/// A JSON number or nested array of numbers as a flat list, in row-major order.
func flatten(_ json: Any?) -> [Double] {
  if let number = json as? NSNumber { return [number.doubleValue] }
  if let array = json as? [Any] { return array.flatMap(flatten) }
  return []
}

func expectClose(
  _ actual: [Double], _ expected: Tensor, tolerance: Double = 1e-15,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(
    actual.count == expected.scalarCount, "\(actual) vs \(expected)", sourceLocation: sourceLocation
  )
  for (a, e) in zip(actual, expected.scalars) {
    #expect(abs(a - e) <= tolerance, "\(actual) vs \(expected)", sourceLocation: sourceLocation)
  }
}

@Suite("backprop: answers equal the library's")
struct CommandTests {
  @Test func gradientOfLogSumExp() throws {
    let json = try runJSON(["grad", "log(sum(exp(x)))", "--at", "x=1,2,3"])
    expectClose(flatten(json["value"]), logSumExp(Variable([1, 2, 3])).value, tolerance: 1e-15)
    let gradient = try #require(json["gradient"] as? [String: Any])
    expectClose(flatten(gradient["x"]), softmax(Tensor([1, 2, 3])))
  }

  @Test func gradientOfNegativeEntropy() throws {
    let json = try runJSON(["grad", "sum(softmax(x) * log(softmax(x)))", "--at", "x=[0.5,-1,2]"])
    let expected = Backprop.gradient(at: [0.5, -1, 2]) { x in (softmax(x) * log(softmax(x))).sum() }
    expectClose(flatten((json["gradient"] as? [String: Any])?["x"]), expected)
  }

  @Test func matrixGradientsKeepTheirShape() throws {
    let json = try runJSON([
      "grad", "sum((X @ W) * (X @ W)) / 2", "--at", "X=[[1,2],[3,4]]", "--at", "W=[[1],[0.5]]",
    ])
    let gradient = try #require(json["gradient"] as? [String: Any])
    let dX = try #require(gradient["X"] as? [[Double]])
    let dW = try #require(gradient["W"] as? [[Double]])
    #expect(dX == [[2, 1], [5, 2.5]])
    #expect(dW == [[17], [24]])
    #expect(flatten(json["value"]) == [14.5])
  }

  @Test func jacobianAndHessian() throws {
    let jacobianJSON = try runJSON(["jacobian", "softmax(x)", "--at", "x=1,2"])
    let j = try #require((jacobianJSON["jacobian"] as? [String: Any])?["x"] as? [[Double]])
    expectClose(j.flatMap { $0 }, softmaxJacobian(at: [1, 2]))
    let hessianJSON = try runJSON(["hessian", "logsumexp(x)", "--at", "x=1,2"])
    let h = try #require((hessianJSON["hessian"] as? [String: Any])?["x"] as? [[Double]])
    expectClose(h.flatMap { $0 }, softmaxJacobian(at: [1, 2]))
    // Two variables, each with its own Jacobian of shape output + input.
    let two = try runJSON(["jacobian", "x * y", "--at", "x=1,2", "--at", "y=3"])
    let y = try #require((two["jacobian"] as? [String: Any])?["y"] as? [Double])
    #expect(y == [1, 2])
  }

  @Test func softmaxComparison() throws {
    let json = try runJSON(["softmax", "1", "2"])
    expectClose(flatten(json["softmax"]), softmax(Tensor([1, 2])))
    let jacobians = try #require(json["jacobian"] as? [String: Any])
    for key in ["fused", "composed", "analytic"] {
      expectClose(flatten(jacobians[key]), softmaxJacobian(at: [1, 2]), tolerance: 1e-16)
    }
    expectClose(flatten(jacobians["numerical"]), softmaxJacobian(at: [1, 2]), tolerance: 1e-9)
    let differences = try #require(json["differences"] as? [String: Double])
    #expect(differences["fused_composed"]! <= 1e-15)
    #expect(runCommand(["softmax", "-1", "2,3", "[4]"]).output.contains("[-1, 2, 3, 4]"))
  }

  @Test func checkPassesAndFails() throws {
    let json = try runJSON(["check", "sum(softmax(x) * log(softmax(x)))", "--at", "x=0.5,-1,2"])
    #expect(json["passed"] as? Bool == true)
    // |x| has a kink at 0, where the one-sided derivatives disagree; x at 0 exactly:
    // sqrt(x*x) differentiates to x/|x| = NaN at 0, which no finite difference matches.
    let kink = runCommand(["check", "sqrt(x * x)", "--at", "x=0"])
    #expect(kink.status == 1)
    #expect(kink.output.contains("FAILED"))
  }

  @Test func textOutputAlignsMatrices() {
    let result = runCommand(["grad", "sum(W * W)", "--at", "W=[[1,-20],[300,4]]"])
    #expect(result.status == 0)
    #expect(result.output.contains("  [[  2, -40],\n   [600,   8]]"))
  }

  @Test func traceAndDot() throws {
    let trace = runCommand(["grad", "tanh(x) * 2", "--at", "x=0.5", "--trace"])
    #expect(trace.output.contains("tanh      #0      []     0.462117  2"))
    #expect(trace.output.contains("multiply  #1, 2   []     0.924234  1"))
    let json = try runJSON(["grad", "sum(x * x)", "--at", "x=1,2", "--trace"])
    let entries = try #require(json["trace"] as? [[String: Any]])
    #expect(entries.map { $0["op"] as? String } == ["variable", "multiply", "sum"])
    #expect(flatten(entries[0]["adjoint"]) == [2, 4])
    let dot = runCommand(["grad", "tanh(x) * 2", "--at", "x=0.5", "--dot"])
    #expect(dot.output.hasPrefix("digraph tape {"))
    #expect(
      dot.output.contains("n0 -> n1;") && dot.output.contains("#1 tanh | value 0.462117 | grad 2"))
    #expect(dot.output.contains("#2 multiply | with 2 | value 0.924234 | grad 1"))
    let constants = try runJSON(["grad", "tanh(x) * 2", "--at", "x=0.5", "--trace"])
    let last = try #require((constants["trace"] as? [[String: Any]])?.last)
    #expect(flatten(last["constants"]) == [2] && flatten(last["inputs"]) == [1])
  }

  @Test func nonFiniteResultsArePrintedWithAWarning() throws {
    let result = runCommand(["grad", "sum(log(x))", "--at", "x=1,0"])
    #expect(result.status == 0)
    #expect(result.output.contains("-inf"))
    #expect(
      result.errors
        == "warning: the result is not finite; entry #1 (log) produced the non-finite value [0, -inf]"
        + " in the forward pass, from #0 [2] = [1, 0]\n"
    )
    let json = try runJSON(["grad", "sum(log(x))", "--at", "x=1,0"])
    #expect(json["value"] is NSNull)
  }

  @Test func expressionFromStandardInput() {
    let result = runCommand(["grad", "-", "--at", "x=3"]) { "x * x\n" }
    #expect(result.status == 0 && result.output.contains("6"))
  }

  @Test func helpAndVersion() {
    #expect(runCommand(["--help"]).output.contains("USAGE"))
    #expect(runCommand(["grad", "x", "--help"]).status == 0)
    // After the command, -h is an expression: the negation of an unbound h.
    #expect(runCommand(["grad", "-h"]).errors.hasPrefix("error: unbound variable 'h'"))
    #expect(runCommand(["--version"]).output == "backprop \(commandVersion)\n")
  }
}
