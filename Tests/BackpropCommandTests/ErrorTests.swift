import BackpropCommand
import Testing

@Suite("backprop: every user error is a clear message and status 2")
struct ErrorTests {
  static let cases: [([String], String)] = [
    (
      ["grad", "expp(x)", "--at", "x=1"],
      "error: unknown function 'expp' — did you mean 'exp'?\n  expp(x)\n  ^\n"
    ),
    (["grad", "pow(x)", "--at", "x=1"], "error: pow takes 2 arguments, got 1"),
    (["grad", "exp(x, x)", "--at", "x=1"], "error: exp takes 1 argument, got 2"),
    (
      ["grad", "x + y", "--at", "x=1"],
      "error: unbound variable 'y' — bind it with --at y=…\n  x + y\n      ^\n"
    ),
    (["grad", "x", "--at", "x=1", "--at", "x=2"], "error: 'x' is bound twice by --at"),
    (["grad", "1.2.3 + x", "--at", "x=1"], "error: malformed number '1.2.3'"),
    (["grad", "x", "--at", "x=1e"], "error: in --at x: malformed number '1e'"),
    (
      ["grad", "sum([1, 2) * x", "--at", "x=1"],
      "error: expected ']' to close the '[' at column 5, found ')'"
    ),
    (
      ["grad", "x", "--at", "x=[[1,2],[3]]"],
      "error: in --at x: ragged literal: this entry has shape [1], the first has [2]"
    ),
    (["grad", "sum([[1,2],[3]] * x)", "--at", "x=1"], "error: ragged literal"),
    (
      ["grad", "sum(x + y)", "--at", "x=1,2,3", "--at", "y=1,2,3,4"],
      "error: shapes [3] and [4] do not broadcast for '+'"
    ),
    (
      ["grad", "sum(A @ B)", "--at", "A=[[1,2]]", "--at", "B=[[1,2]]"],
      "error: '@' of shapes [1, 2] and [1, 2]: the inner dimensions 2 and 1 differ"
    ),
    (
      ["grad", "sum(a @ B)", "--at", "a=1,2", "--at", "B=[[[1,2],[3,4]]]"],
      "error: '@' takes matrices, vectors or a batch of matrices on the left (and then on the "
        + "right), got shapes [2] and [1, 2, 2]"
    ),
    (
      ["grad", "x * 2", "--at", "x=1,2"],
      "error: grad needs a scalar expression, but this one has shape [2] — use jacobian"
    ),
    (
      ["hessian", "x", "--at", "x=1,2"],
      "error: hessian needs a scalar expression, but this one has shape [2] — use jacobian"
    ),
    (["grad", ""], "error: empty expression"),
    (["grad", "   "], "error: empty expression"),
    (["grad", "x", "--at", "x=1", "--frobnicate"], "error: unknown option '--frobnicate'\n"),
    (
      ["grad", "x", "--at", "x=1", "--jsno"],
      "error: unknown option '--jsno' — did you mean '--json'?"
    ),
    (["grad", "x", "--at"], "error: --at needs a binding such as x=1,2,3"),
    (["grad", "x", "--at", "x="], "error: --at x= is missing a value"),
    (["grad", "x", "--at", "x"], "error: --at 'x' needs the form name=value"),
    (["grad", "x", "--at", "2x=1"], "error: --at '2x=1': '2x' is not a variable name"),
    (["grad", "x", "--at", "exp=1"], "error: --at 'exp=1': 'exp' is a function name"),
    (["grad"], "error: grad needs an expression"),
    (["grad", "x", "y", "--at", "x=1"], "error: unexpected argument 'y' after the expression"),
    ([], "error: no command given"),
    (["gard", "x"], "error: unknown command 'gard' — did you mean 'grad'?"),
    (["grad", "x +", "--at", "x=1"], "error: the expression ends where a value should be"),
    (
      ["grad", "(x", "--at", "x=1"],
      "error: expected ')' to close the '(' at column 1, found the end"
    ),
    (["grad", "x)", "--at", "x=1"], "error: unexpected ')' after a complete expression"),
    (["grad", "x # 2", "--at", "x=1"], "error: unexpected '#' after a complete expression"),
    (["grad", "exp", "--at", "x=1"], "error: 'exp' is a function; call it as exp(…)"),
    (
      ["grad", "sum(x ^ [1, 2, 3])", "--at", "x=1,2"],
      "error: shapes [2] and [3] do not broadcast for '^'"
    ),
    (
      ["grad", "sum(clamp(x, y, 1))", "--at", "x=1,2", "--at", "y=0"],
      "error: clamp's lower bound must be a constant number, but it uses 'y'"
    ),
    (["grad", "sum(clamp(x, 2, 1))", "--at", "x=1,2"], "error: clamp's lower bound 2.0 is above"),
    (["grad", "x[2]", "--at", "x=1,2"], "error: index 2 is out of range for the first axis"),
    (
      ["grad", "sum(x[1:5])", "--at", "x=1,2"], "error: the range 1:5 is empty or not within"
    ),
    (["grad", "x[0.5]", "--at", "x=1,2"], "error: a subscript must be an integer, not 0.5"),
    (["grad", "max(x[1:1])", "--at", "x=1,2"], "error: the range 1:1 is empty or not within"),
    (["grad", "2[0]"], "error: a scalar has no axis to subscript"),
    (
      ["grad", "sum(concatenate(x, [[1]]))", "--at", "x=1,2"],
      "error: concatenate of shapes [2] and [1, 1]"
    ),
    (["grad", "select(x, x, x)", "--at", "x=1"], "error: select's condition must be constant"),
    (["grad", "sum(sin(x, x))", "--at", "x=1"], "error: sin takes 1 argument, got 2"),
    (
      ["grad", "sum(squaredDifference(x))", "--at", "x=1"],
      "error: squaredDifference takes 2 arguments, got 1"
    ),
    (
      ["grad", "sum(squaredDifference(x, [1, 2, 3]))", "--at", "x=1,2"],
      "error: shapes [2] and [3] do not broadcast for squaredDifference"
    ),
    (
      ["jacobian", "softmax(2)"],
      "error: softmax works along the last axis and needs a vector or matrix, not a scalar"
    ),
    (["grad", "sum([])"], "error: empty literal"),
    (["softmax"], "error: softmax needs numbers"),
    (["softmax", "1", "x"], "error: expected a number"),
    (["softmax", "[[1,2]]"], "error: softmax takes a vector of numbers, not shape [1, 2]"),
    (["grad", "x", "--at", "x=1", "--dot", "--trace"], "error: --dot prints only the graph"),
    // Not an error: [2, 1] and [1, 2] broadcast to [2, 2].
    (["grad", "sum(x + y)", "--at", "x=[[1],[2]]", "--at", "y=[[1,2]]", "--json"], ""),
  ]

  @Test(arguments: cases)
  func userErrors(arguments: [String], expected: String) {
    let result = runCommand(arguments)
    if expected.isEmpty {
      #expect(result.status == 0, "\(result.errors)")
      return
    }
    #expect(result.status == 2)
    #expect(result.output.isEmpty)
    #expect(result.errors.hasPrefix(expected), "got: \(result.errors)")
    #expect(result.errors.hasPrefix("error: "))
    #expect(result.errors.split(separator: "\n").filter { $0.hasPrefix("error:") }.count == 1)
  }

  @Test("Deep nesting is a bounded-depth error, not a stack overflow")
  func deepNesting() {
    let parentheses =
      String(repeating: "(", count: 100_000) + "x" + String(repeating: ")", count: 100_000)
    let brackets =
      "sum(" + String(repeating: "[", count: 100_000) + "1" + String(repeating: "]", count: 100_000)
      + ")"
    let chain = Array(repeating: "x", count: 100_000).joined(separator: "+")
    let negations = "x * " + String(repeating: "-", count: 100_000) + "x"
    let powers = Array(repeating: "x", count: 100_000).joined(separator: "^")
    for source in [parentheses, brackets, chain, negations, powers] {
      let result = runCommand(["grad", source, "--at", "x=1"])
      #expect(result.status == 2)
      #expect(result.errors.hasPrefix("error: the expression is nested more than 500 levels deep"))
    }
    // The bound is what the README says: 500 parentheses are fine, 501 are not.
    func nested(_ depth: Int) -> String {
      String(repeating: "(", count: depth) + "x" + String(repeating: ")", count: depth)
    }
    #expect(runCommand(["grad", nested(500), "--at", "x=1"]).status == 0)
    #expect(runCommand(["grad", nested(501), "--at", "x=1"]).status == 2)
    #expect(
      runCommand(["grad", "--at", "x=1", "--", String(repeating: "-", count: 499) + "x"]).status
        == 0)
  }

  @Test("Messages quote at most a short prefix of a huge argument")
  func longArgumentsAreAbbreviated() {
    let option = "--" + String(repeating: "a", count: 100_000)
    let result = runCommand(["grad", "x", option])
    #expect(result.status == 2)
    #expect(result.errors.count < 100, "\(result.errors.count) characters")
    let command = runCommand([String(repeating: "b", count: 100_000)])
    #expect(command.status == 2 && command.errors.count < 100)
  }

  @Test("A literal with a million entries works")
  func millionEntryLiteral() {
    let literal = "[" + Array(repeating: "1", count: 1_000_000).joined(separator: ",") + "]"
    let result = runCommand(["grad", "sum(x * \(literal))", "--at", "x=2", "--json"])
    #expect(result.status == 0)
    #expect(result.output == "{\"value\": 2000000.0, \"gradient\": {\"x\": 1000000.0}}\n")
  }

  @Test("Results too large to hold are refused before evaluation")
  func hugeResultsAreRefused() {
    let result = runCommand(["grad", "sum(a @ b)", "--at", "a=[[1],[2]]", "--at", "b=[[1,2]]"])
    #expect(result.status == 0)
    let huge = runCommand(["grad", "sum(x + y)", "--at", "x=[[1],[2],[3]]", "--at", "y=[[1,2]]"])
    #expect(huge.status == 0)
    let row = String(repeating: "1,", count: 9_999) + "1"
    let column = String(repeating: "[1],", count: 9_999) + "[1]"
    // [10⁴, 1] + [1, 10⁴] would be 10⁸ scalars.
    let refused = runCommand([
      "grad", "sum(x + y)", "--at", "x=[\(column)]", "--at", "y=[[\(row)]]",
    ])
    #expect(refused.status == 2)
    #expect(refused.errors.contains("more than 50000000 scalars"))
  }
}
