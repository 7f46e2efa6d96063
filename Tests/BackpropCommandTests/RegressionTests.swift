import BackpropCommand
import Foundation
import Testing

// The command's side of the defects found at the edges: each case failed before its fix.
@Suite("backprop: large logits, NaN, unresolvable steps, non-finite values, JSON errors")
struct CommandRegressionTests {
  @Test func largeTiedLogitsKeepTheLogOfTheSum() {
    let result = runCommand(["grad", "sum(logsoftmax(x))", "--at", "x=1e17,1e17"])
    #expect(result.status == 0)
    #expect(result.output.contains("-1.386294361"), "\(result.output)")
    #expect(result.output.contains("[0, 0]"), "\(result.output)")
  }

  @Test func reluPropagatesNaNWithAWarning() {
    let result = runCommand(["grad", "sum(relu(log(x)))", "--at", "x=-1,2"])
    #expect(result.output.contains("value\n  nan"), "\(result.output)")
    #expect(result.errors.hasPrefix("warning: the result is not finite"), "\(result.errors)")
    #expect(!result.output.contains("-nan") && !result.errors.contains("-nan"))
  }

  @Test func softmaxSaysWhenCentralDifferencesMeanNothing() {
    let result = runCommand(["softmax", "1e300", "1e300", "0"])
    #expect(result.output.contains("fused − central differences  not resolved"), "\(result.output)")
    #expect(result.output.contains("cannot resolve softmax at inputs [0, 1]"))
    let ordinary = runCommand(["softmax", "1", "2", "--json"])
    #expect(ordinary.output.contains("\"numerical_resolved\": true"))
  }

  @Test func checkScalesItsStepAndSaysInconclusive() {
    #expect(runCommand(["check", "sum(x * x)", "--at", "x=1e10"]).status == 0)
    let saturated = runCommand(["check", "sum(softmax(x) * [1, 2, 3])", "--at", "x=1e300,1e300,0"])
    #expect(saturated.status == 1)
    #expect(saturated.output.contains("\ninconclusive"), "\(saturated.output)")
  }

  @Test("--at takes inf, -inf and nan in any case, and spaces around the =")
  func nonFiniteAndSpacedBindings() throws {
    let json = try runJSON(["grad", "sum(x)", "--at", "x=1,-inf,NaN,Infinity"])
    #expect(json["value"] is NSNull)
    #expect(flatten(json["gradient"].flatMap { ($0 as? [String: Any])?["x"] }) == [1, 1, 1, 1])
    let spaced = runCommand(["grad", "x * 2", "--at", " x = 1.5 "])
    #expect(spaced.status == 0 && spaced.output.contains("value\n  3\n"), "\(spaced)")
    #expect(runCommand(["grad", "x", "--at", "x=infinite"]).errors.hasPrefix("error: in --at x"))
  }

  @Test func errorsAreJSONWithJSON() throws {
    let result = runCommand(["grad", "sum(x", "--at", "x=1", "--json"])
    #expect(result.status == 2 && result.output.isEmpty)
    let object = try JSONSerialization.jsonObject(with: Data(result.errors.utf8)) as? [String: Any]
    #expect((object?["error"] as? String)?.hasPrefix("expected ')'") == true)
    #expect(object?["column"] as? Int == 5)
  }

  @Test func zerosAndNaNsPrintWithoutSigns() {
    let result = runCommand(["grad", "sum(log(x) * 0)", "--at", "x=-1,0", "--trace"])
    #expect(!result.output.contains("-0") && !result.output.contains("-nan"), "\(result.output)")
  }

  @Test func traceNestsValuesAndMarksConstantVectors() {
    let result = runCommand(["grad", "sum(x * [3])", "--at", "x=[[1,2],[3,5]]", "--trace"])
    #expect(result.output.contains("[[1, 2], [3, 5]]"), "\(result.output)")
    #expect(result.output.contains("#0, constant [3]"), "\(result.output)")
  }
}

@Suite("backprop: logsumexp reduces every scalar, as sum and max do")
struct CommandReductionTests {
  @Test func logsumexpOfAMatrixIsAScalar() throws {
    let json = try runJSON(["grad", "logsumexp(X)", "--at", "X=[[1,2],[3,4]]"])
    let expected = Foundation.log([1.0, 2, 3, 4].map(Foundation.exp).reduce(0, +))
    #expect(abs(flatten(json["value"])[0] - expected) <= 1e-15)
    // X − logsumexp(X) broadcasts a scalar: it is log-softmax over all four entries.
    let shifted = runCommand(["jacobian", "X - logsumexp(X)", "--at", "X=[[1,2],[3,4]]"])
    #expect(shifted.status == 0, "\(shifted.errors)")
  }
}
