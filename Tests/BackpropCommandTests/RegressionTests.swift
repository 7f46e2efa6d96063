import Backprop
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
    #expect(saturated.status == 3)  // inconclusive: neither passed (0) nor failed (1)
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

@Suite("backprop: options and operands")
struct CommandOperandTests {
  @Test func dashHIsAnExpressionAfterTheCommand() {
    let negated = runCommand(["grad", "-h", "--at", "h=2"])
    #expect(negated.status == 0 && negated.output.hasPrefix("value\n  -2"), "\(negated)")
    let afterSeparator = runCommand(["grad", "--at", "h=2", "--", "--help"])
    #expect(afterSeparator.status == 2 && !afterSeparator.output.contains("USAGE"))
    #expect(runCommand(["-h"]).output.contains("USAGE"))
    #expect(runCommand(["grad", "x", "--help"]).output.contains("USAGE"))
  }
}

@Suite("backprop: what a message echoes is bounded and escaped")
struct CommandEchoTests {
  @Test func combiningMarksAreCountedAsScalars() {
    let huge = "x" + String(repeating: "\u{0300}", count: 200_000)
    let result = runCommand(["grad", "sum(y)", "--at", huge + "=1"])
    #expect(result.status == 2)
    #expect(result.errors.utf8.count < 2_000, "\(result.errors.utf8.count) bytes")
    let inExpression = runCommand(["grad", "sum(" + huge + ")", "--at", "x=1"])
    #expect(inExpression.status == 2)
    #expect(inExpression.errors.utf8.count < 2_000, "\(inExpression.errors.utf8.count) bytes")
  }

  @Test func controlCharactersAreEscaped() {
    let result = runCommand(["gr\nad", "x"])
    #expect(result.errors.split(separator: "\n").count == 1, "\(result.errors)")
    #expect(result.errors.contains("gr\\nad"))
    let escape = runCommand(["grad", "x \u{1B}[31m", "--at", "x=1"])
    #expect(
      !escape.errors.contains("\u{1B}") && escape.errors.contains("\\u{1B}"), "\(escape.errors)")
  }

  @Test func theCaretIsOnTheRightLineAndColumn() {
    let result = runCommand(["grad", "-", "--at", "x=1"]) { "sum(x)\n + y\n" }
    let lines = result.errors.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.count >= 3, "\(result.errors)")
    #expect(lines[1] == "   + y", "\(result.errors)")
    #expect(lines[2] == "     ^", "\(result.errors)")
    // Two wide characters before the error move the caret four columns.
    let wide = runCommand(["grad", "x + 漢字", "--at", "x=1"])
    let wideLines = wide.errors.split(separator: "\n")
    #expect(wideLines.count == 3 && wideLines[2] == "      ^", "\(wide.errors)")
  }
}

@Suite("backprop: warnings name where a result went non-finite, whatever the cause")
struct CommandWarningTests {
  @Test func overflowWhileAccumulatingIsNamed() {
    let result = runCommand(["grad", "x*1e308 + x*1e308", "--at", "x=1e-308"])
    #expect(
      result.errors.contains("the adjoint of entry #0 (variable) became inf"), "\(result.errors)")
  }

  @Test func anInfiniteConstantIsNamed() {
    let result = runCommand(["grad", "x*1e309", "--at", "x=1"])
    #expect(result.errors.contains("and the constant inf"), "\(result.errors)")
  }

  /// The fused losses and the variance are custom entries on the tape; a fuzzed
  /// `variance(x)` at ±1e300 once trapped while naming one.
  @Test func fusedEntriesAreNamedByTheirOps() {
    let cases = [
      ("variance(x)", "variance"), ("std(x)", "variance"),
      ("meanSquaredError(x, [0, 0])", "meanSquaredError"),
      ("huberLoss(x, [0, 0], 1e300)", "huberLoss"),
    ]
    for (expression, op) in cases {
      let result = runCommand(["grad", expression, "--at", "x=1e300,-1e300"])
      #expect(result.status == 0, "\(expression): \(result.errors)")
      #expect(
        result.errors.hasPrefix("warning: the result is not finite; entry #1 (\(op)) produced"),
        "\(expression): \(result.errors)")
    }
  }

  @Test func softmaxRefusesTraceLikeDot() {
    #expect(
      runCommand(["softmax", "1", "2", "--trace"]).errors.hasPrefix(
        "error: softmax records no tape"))
    #expect(
      runCommand(["softmax", "1", "2", "--dot"]).errors.hasPrefix("error: softmax records no tape"))
  }
}

@Suite("backprop: the function library on the command line")
struct CommandFunctionTests {
  @Test("Every elementwise function, by the library's name and in lowercase, matches the library")
  func elementwise() throws {
    let names = [
      "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "atanh", "exp2",
      "expm1", "log2", "log10", "log1p", "abs", "sign", "square", "reciprocal", "rsqrt", "erf",
      "erfc", "softplus", "logSigmoid", "logsigmoid", "gelu", "swish", "leakyRelu", "leakyrelu",
      "elu",
    ]
    for name in names {
      let json = try runJSON(["grad", "sum(\(name)(x))", "--at", "x=0.25,0.5,0.75"])
      #expect(flatten(json["value"]).count == 1, "\(name)")
      #expect(flatten((json["gradient"] as? [String: Any])?["x"]).count == 3, "\(name)")
    }
    let gelu = try runJSON(["grad", "gelu(x)", "--at", "x=0.5"])
    expectClose(flatten(gelu["value"]), Backprop.gelu(Backprop.Variable(0.5)).value)
  }

  @Test("Slicing, reductions, two-operand functions and losses")
  func others() throws {
    let cases: [(String, String, Double)] = [
      ("x[1] + x[-1]", "x=1,2,3", 5), ("sum(x[1:])", "x=1,2,3", 5), ("sum(x[:-1])", "x=1,2,3", 3),
      ("prod(x)", "x=1,2,3", 6), ("min(x)", "x=1,2,3", 1), ("variance(x)", "x=1,2,3", 2.0 / 3),
      ("sum(concatenate(x, x[:1]))", "x=1,2,3", 7), ("sum(stack(x, x))", "x=1,2,3", 12),
      ("sum(hypot(x, 4))", "x=3", 5), ("atan2(x, 1)", "x=1", Foundation.atan(1)),
      ("sum(x ^ [2, 3])", "x=2", 12), ("meanSquaredError(x, [0, 0])", "x=1,3", 5),
      ("huberLoss(x, [0, 0], 1)", "x=0.5,3", (0.125 + 2.5) / 2),
      ("sum(clamp(x, 0, 2))", "x=-1,1,5", 3), ("sum(flattened(X))", "X=[[1,2],[3,4]]", 10),
      ("sum(select([1, 0], x, -x))", "x=1,2", -1), ("logsumexp(x)", "x=0,0", Foundation.log(2)),
      ("sum(squaredDifference(x, [1, -1]))", "x=3,2", 13),
      ("sum(squareddifference(1e17, x))", "x=1e17", 0),
    ]
    for (expression, binding, expected) in cases {
      let json = try runJSON(["grad", expression, "--at", binding])
      let value = flatten(json["value"])
      #expect(value.count == 1 && abs(value[0] - expected) <= 1e-15, "\(expression): \(value)")
    }
    // (a − b)², broadcast against a scalar either side: 2(x − 1) and 2(x − 1) again.
    for expression in ["sum(squaredDifference(x, 1))", "sum(squaredDifference(1, x))"] {
      let d = try runJSON(["grad", expression, "--at", "x=3,-2,1"])
      #expect(flatten((d["gradient"] as? [String: Any])?["x"]) == [4, -6, 0], "\(expression)")
    }
    let m = try runJSON(["grad", "sum(X[1:2][0])", "--at", "X=[[1,2],[3,4]]"])
    #expect(flatten((m["gradient"] as? [String: Any])?["X"]) == [0, 0, 1, 1])
  }
}
