import Backprop
import BackpropCommand
import Foundation
import Testing

/// What a new user meets first: several variables in a Hessian, `@` on vectors, expressions
/// with nothing to differentiate, constants, values from files, and outputs too large to print.
@Suite("backprop: the command's edges")
struct CommandEdgeTests {
  @Test("hessian with several variables prints every block, the mixed ones included")
  func mixedHessianBlocks() throws {
    let text = runCommand(["hessian", "x*y", "--at", "x=2", "--at", "y=3"])
    #expect(text.status == 0)
    #expect(text.output.contains("hessian with respect to x, then y (∂²/∂x∂y), shape []\n  1\n"))
    #expect(text.output.contains("hessian with respect to y, then x (∂²/∂y∂x), shape []\n  1\n"))
    // ∂²(x·y·z): the mixed blocks are the third variable, each with its shape.
    let json = try runJSON([
      "hessian", "sum(x * y) * z", "--at", "x=1,2", "--at", "y=3,4", "--at", "z=5",
    ])
    let hessian = try #require(json["hessian"] as? [String: Any])
    #expect(flatten(hessian["x"]) == [0, 0, 0, 0] && flatten(hessian["z"]) == [0])
    let mixed = try #require(json["mixed"] as? [String: [String: Any]])
    #expect(flatten(mixed["x"]?["y"]) == [5, 0, 0, 5])  // z · I
    #expect(flatten(mixed["x"]?["z"]) == [3, 4])  // y
    #expect(flatten(mixed["z"]?["y"]) == [1, 2])  // x
    #expect(flatten(mixed["y"]?["x"]) == [5, 0, 0, 5])
    // One variable: no "mixed" member, as before.
    #expect(try runJSON(["hessian", "x^3", "--at", "x=2"])["mixed"] == nil)
  }

  @Test("@ follows matmul's ranks: matrix × vector, vector × matrix, vector · vector, batches")
  func matrixProductRanks() throws {
    let (w, x) = (Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), Tensor([5, 6]))
    let batch = Tensor(shape: [2, 2, 2], scalars: [1, 2, 3, 4, 1, 0, 0, 1])
    let at = [
      "--at", "W=[[1,2],[3,4]]", "--at", "x=5,6", "--at", "B=[[[1,2],[3,4]],[[1,0],[0,1]]]",
    ]
    let cases: [(String, Tensor)] = [
      ("sum(W @ x)", gradient(at: w) { matmul($0, Variable(x)).sum() }),
      ("sum(x @ W)", gradient(at: w) { matmul(Variable(x), $0).sum() }),
      ("sum(B @ W)", gradient(at: w) { matmul(Variable(batch), $0).sum() }),
    ]
    for (expression, expected) in cases {
      let json = try runJSON(["grad", expression] + at)
      #expect(
        flatten((json["gradient"] as? [String: Any])?["W"]) == expected.scalars, "\(expression)")
    }
    #expect(flatten(try runJSON(["grad", "x @ x"] + at)["value"]) == [61])
    #expect(flatten(try runJSON(["grad", "sum(B @ x)"] + at)["value"]) == [67])
    let refused = runCommand(["grad", "sum(W @ B)"] + at)
    #expect(refused.status == 2 && refused.errors.hasPrefix("error: '@' takes matrices"))
    let inner = runCommand(["grad", "sum(W @ [1, 2, 3])"] + at)
    #expect(inner.errors.hasPrefix("error: '@' of shapes [2, 2] and [3]: the inner dimensions"))
  }

  @Test("An expression with nothing to differentiate says so on standard error, and exits 0")
  func nothingDifferentiated() {
    let constant = runCommand(["grad", "2 + 3"])
    #expect(constant.status == 0 && constant.output == "value\n  5\n")
    #expect(constant.errors.contains("warning: the expression has no variable"))
    let unused = runCommand(["grad", "binaryCrossEntropy(0.5, t)", "--at", "t=1"])
    #expect(unused.errors.contains("no variable bound by --at is differentiated"))
    #expect(runCommand(["grad", "sum(x)", "--at", "x=1"]).errors.isEmpty)
  }

  @Test("Constants are listed as constants, not given gradients of zeros")
  func constantsAreNamed() throws {
    let at = ["--at", "x=1,2", "--at", "t=0,1", "--at", "z=7"]
    let text = runCommand(["grad", "binaryCrossEntropy(x, t)"] + at)
    #expect(!text.output.contains("with respect to t"))
    #expect(
      text.output.contains("not differentiated: t (held constant), z (not in the expression)"))
    let json = try runJSON(["grad", "binaryCrossEntropy(x, t)"] + at)
    #expect((json["gradient"] as? [String: Any])?.keys.sorted() == ["x"])
    #expect(json["constants"] as? [String] == ["t", "z"])
    // check compares only what is differentiated: labels would fail against central
    // differences, which do move with them.
    #expect(runCommand(["check", "binaryCrossEntropy(x, t)"] + at).status == 0)
  }

  @Test("--at NAME=@FILE reads a value, in the literal syntax or JSON, from a file or stdin")
  func valuesFromFiles() throws {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("backprop-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let matrix = directory.appendingPathComponent("W.json")
    try Data("[\n  [1, 2],\n  [3, 4]\n]\n".utf8).write(to: matrix)
    let fromFile = try runJSON(["grad", "sum(W @ x)", "--at", "W=@\(matrix.path)", "--at", "x=5,6"])
    let inline = try runJSON(["grad", "sum(W @ x)", "--at", "W=[[1,2],[3,4]]", "--at", "x=5,6"])
    #expect(flatten(fromFile["value"]) == flatten(inline["value"]))
    // 20,000 numbers: more than a shell passes in one argument on some systems.
    let long = directory.appendingPathComponent("x.txt")
    try Data((0..<20_000).map { "\(Double($0) / 1000)" }.joined(separator: ",").utf8).write(
      to: long)
    let many = try runJSON(["grad", "sum(x)", "--at", "x=@\(long.path)"])
    #expect(flatten((many["gradient"] as? [String: Any])?["x"]).count == 20_000)
    let piped = runCommand(["grad", "sum(x * x)", "--at", "x=@-"]) { "1, 2\n" }
    #expect(piped.status == 0 && piped.output.contains("[2, 4]"))

    let failures: [([String], String)] = [
      (["--at", "x=@\(directory.path)/missing"], "no such file"),
      (["--at", "x=@\(directory.path)"], "not a readable file"),
      (["--at", "x=@-", "--at", "y=@-"], "standard input is already read by another --at"),
    ]
    for (options, message) in failures {
      let result = runCommand(["grad", "sum(x)"] + options) { "1" }
      #expect(result.status == 2 && result.errors.contains(message), "\(result.errors)")
      #expect(result.errors.split(separator: "\n").count == 1)
    }
    let both = runCommand(["grad", "-", "--at", "x=@-"]) { "sum(x)" }
    #expect(both.status == 2 && both.errors.contains("both read standard input"))
    let huge = directory.appendingPathComponent("huge.txt")
    try Data(repeating: UInt8(ascii: "1"), count: maximumExpressionBytes + 10).write(to: huge)
    let tooLong = runCommand(["grad", "sum(x)", "--at", "x=@\(huge.path)"])
    #expect(tooLong.status == 2 && tooLong.errors.contains("longer than 4194304 bytes"))
  }

  @Test("Output over the budget is refused before computing, with the size and the option")
  func boundedOutput() {
    let numbers = (1...3000).map(String.init)
    let softmax = runCommand(["softmax"] + numbers)
    #expect(softmax.status == 2 && softmax.output.isEmpty)
    #expect(
      softmax.errors.hasPrefix("error: this softmax would print 3.6e7 numbers, up to 892.9 MiB,")
        && softmax.errors.contains("the output budget of 16 MiB; raise it with --max-output"))
    let raised = runCommand(["softmax", "1", "2", "--max-output", "1K"])
    #expect(raised.status == 0)
    let small = runCommand([
      "jacobian", "x", "--at", "x=" + numbers.joined(separator: ","),
      "--max-output", "64K",
    ])
    #expect(small.status == 2 && small.errors.contains("numbers, up to"))
    // A tape printed by --trace is counted once it is made.
    let traced = runCommand([
      "grad", "sum(exp(x))", "--at", "x=1,2", "--trace", "--max-output", "200",
    ])
    #expect(traced.status == 2 && traced.errors.hasPrefix("error: the output would be"))
    #expect(runCommand(["grad", "x", "--at", "x=1", "--max-output", "1G"]).status == 0)
    #expect(runCommand(["grad", "x", "--at", "x=1", "--max-output", "lots"]).status == 2)
  }

  @Test("binaryCrossEntropy's labels outside [0, 1] are one error naming the entry")
  func labelsOutOfRange() {
    let result = runCommand(["grad", "binaryCrossEntropy(x, t)", "--at", "x=1,2", "--at", "t=0,2"])
    #expect(result.status == 2)
    #expect(
      result.errors.hasPrefix(
        "error: binaryCrossEntropy's labels must be in [0, 1], but entry 1 is 2"))
  }
}

@Suite("backprop check: verdicts and their exit statuses")
struct CheckVerdictTests {
  @Test("Each cause is named for its entry, and inconclusive exits 3")
  func causes() {
    let cases: [([String], String)] = [
      (["sum(exp(x))", "--at", "x=700,1"], "cannot decide entry [1]: rounding"),
      (["sum(x)", "--at", "x=nan"], "cannot decide the scalar: the input is not finite"),
      (["relu(x)", "--at", "x=0"], "cannot decide the scalar: a kink"),
      (
        ["sum(softmax(x) * [1, 2, 3])", "--at", "x=1e300,1e300,0"],
        "entries [0], [1]: the step is too long"
      ),
    ]
    for (arguments, message) in cases {
      let result = runCommand(["check"] + arguments)
      #expect(result.status == 3, "\(arguments)")
      #expect(result.output.contains(message), "\(result.output)")
      #expect(
        result.output.hasSuffix(
          "inconclusive (|analytic − numerical| ≤ 1e-5 + 1e-3·|numerical|, step 1e-6·max(1, |x|))\n"
        ))
    }
    #expect(runCommand(["check", "sum(x * x)", "--at", "x=1,2"]).status == 0)
  }

  @Test("--json carries the verdict and each undecided entry's cause")
  func json() throws {
    let result = runCommand(["check", "sum(exp(x))", "--at", "x=700,1", "--json"])
    #expect(result.status == 3)
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
    #expect(object["verdict"] as? String == "inconclusive")
    let x = try #require((object["check"] as? [String: Any])?["x"] as? [String: Any])
    let undecided = try #require(x["undecided"] as? [[String: Any]])
    #expect(undecided.count == 1 && undecided[0]["cause"] as? String == "rounding")
    #expect(flatten(undecided[0]["index"]) == [1])
  }

  @Test("softmax names a non-finite input as such, at its own position")
  func softmaxAtInfinity() {
    let result = runCommand(["softmax", "1e300", "0", "-inf"])
    #expect(
      result.output.contains(
        "cannot resolve softmax at inputs [2]: the input is not finite there, so no step can be taken"
      ))
    #expect(!result.output.contains("= nan"))
  }
}
