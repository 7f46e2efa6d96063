import Backprop

/// Runs `grad`, `jacobian`, `hessian` or `check` on a checked expression.
struct Differentiation {
  let command: CommandName
  let expression: Expression
  let bindings: [(name: String, value: Tensor)]
  let json: Bool
  let trace: Bool
  let dot: Bool

  func run() -> CommandResult {
    // The NaN warning names where the computation first went non-finite.
    let tape = Tape(detectsAnomalies: true)
    let variables = bindings.map { tape.variable($0.value) }
    let environment = Dictionary(
      zip(bindings.map(\.name), variables), uniquingKeysWith: { first, _ in first })
    let y = evaluate(expression, environment)

    let results: [Tensor]
    var checks: [GradientCheckReport] = []
    switch command {
    case .grad:
      if y.tape != nil {
        y.backward()
        results = variables.map { $0.grad! }
      } else {
        results = variables.map { .zeros($0.shape) }
      }
    case .jacobian:
      results = jacobians(of: y, wrt: variables)
    case .hessian:
      results = variables.map { hessian(of: y, wrt: $0) }
    case .check:
      checks = bindings.indices.map { position in
        checkGradient(at: bindings[position].value) { input in
          var constants = bindings.reduce(into: [String: Variable]()) {
            $0[$1.name] = Variable($1.value)
          }
          constants[bindings[position].name] = input
          return evaluate(expression, constants)
        }
      }
      results = checks.map(\.analytic)
    case .softmax:
      fatalError("softmax is run by SoftmaxReport")
    }

    var errors = ""
    if !y.value.isFinite || results.contains(where: { !$0.isFinite }) {
      errors += "warning: the result is not finite"
      if let anomaly = tape.anomaly {
        errors += "; \(anomaly)"
      }
      errors += "\n"
    }
    let status: Int32 = checks.allSatisfy(\.passed) ? 0 : 1
    if dot { return CommandResult(status: status, output: tape.graphviz(), errors: errors) }
    let output =
      json
      ? jsonReport(value: y.value, results: results, checks: checks, tape: tape)
      : textReport(value: y.value, results: results, checks: checks, tape: tape)
    return CommandResult(status: status, output: output, errors: errors)
  }

  /// One reverse sweep per scalar of `y`, each seeded with a one-hot cotangent, gives one row of
  /// every variable's Jacobian at once.
  private func jacobians(of y: Variable, wrt variables: [Variable]) -> [Tensor] {
    let rows = y.value.scalarCount
    var scalars = variables.map { [Double](repeating: 0, count: rows * $0.value.scalarCount) }
    if y.tape != nil {
      for row in 0..<rows {
        y.backward(seed: .oneHot(y.shape, at: row))
        for (position, variable) in variables.enumerated() {
          let columns = variable.value.scalarCount
          scalars[position].replaceSubrange(
            (row * columns)..<((row + 1) * columns), with: variable.grad!.scalars)
        }
      }
    }
    return zip(variables, scalars).map { variable, scalars in
      Tensor(shape: y.shape + variable.shape, scalars: scalars)
    }
  }

  /// The Hessian with respect to one variable: its gradient is recorded on the tape, then
  /// differentiated row by row.
  private func hessian(of y: Variable, wrt x: Variable) -> Tensor {
    let g = gradient(of: y, wrt: x)
    guard g.tape != nil else { return .zeros(x.shape + x.shape) }
    return jacobians(of: g, wrt: [x])[0]
  }

  private var resultName: String {
    switch command {
    case .grad, .check: "gradient"
    case .jacobian: "jacobian"
    case .hessian: "hessian"
    case .softmax: "softmax"
    }
  }

  private func textReport(
    value: Tensor, results: [Tensor], checks: [GradientCheckReport], tape: Tape
  ) -> String {
    var text = "value\n\(Output.text(value))\n"
    for (position, (name, _)) in bindings.enumerated() {
      let result = results[position]
      text += "\n\(resultName) with respect to \(name), shape \(result.shape)\n"
      text += Output.text(result) + "\n"
      if command == .check {
        let report = checks[position]
        text += "central differences\n\(Output.text(report.numerical))\n"
        text += "  \(Self.word(report.verdict)): max absolute error "
        text += "\(Output.number(report.maxAbsoluteError)), max relative error "
        text += "\(Output.number(report.maxRelativeError)), worst entry \(report.worstIndex)\n"
        if !report.unresolvedIndices.isEmpty {
          text += "  central differences cannot resolve entries \(report.unresolvedIndices):"
          text += " the step is too long for the function there\n"
        }
      }
    }
    if command == .check {
      let verdict: GradientCheckReport.Verdict =
        checks.contains { $0.verdict == .failed }
        ? .failed : checks.allSatisfy(\.passed) ? .passed : .inconclusive
      text += "\n" + Self.word(verdict)
      text += " (|analytic − numerical| ≤ 1e-5 + 1e-3·|numerical|, step 1e-6·max(1, |x|))\n"
    }
    if trace {
      text += "\ntape (\(traceCaption))\n\(tape)\n"
    }
    return text
  }

  /// A verdict as the report prints it: a failure in capitals, to stand out.
  private static func word(_ verdict: GradientCheckReport.Verdict) -> String {
    verdict == .failed ? "FAILED" : verdict.rawValue
  }

  private var traceCaption: String {
    switch command {
    case .grad, .check: "the Wengert list, with adjoints after the backward sweep"
    case .jacobian: "adjoints from the sweep for the last row of the Jacobian"
    case .hessian:
      "the expression, then its gradient recorded as entries; adjoints from the last second-order sweep"
    case .softmax: ""
    }
  }

  private func jsonReport(
    value: Tensor, results: [Tensor], checks: [GradientCheckReport], tape: Tape
  ) -> String {
    var members = [("value", Output.json(value))]
    let perVariable = bindings.enumerated().map { position, binding in
      (binding.name, Output.json(results[position]))
    }
    members.append((resultName, Output.object(perVariable)))
    if command == .check {
      members.append(("passed", checks.allSatisfy(\.passed) ? "true" : "false"))
      let details = bindings.enumerated().map { position, binding in
        let report = checks[position]
        return (
          binding.name,
          Output.object([
            ("passed", report.passed ? "true" : "false"),
            ("verdict", Output.json(report.verdict.rawValue)),
            ("analytic", Output.json(report.analytic)),
            ("numerical", Output.json(report.numerical)),
            ("maxAbsoluteError", Output.json(report.maxAbsoluteError)),
            ("maxRelativeError", Output.json(report.maxRelativeError)),
            ("worstIndex", "[" + report.worstIndex.map(String.init).joined(separator: ", ") + "]"),
          ])
        )
      }
      members.append(("check", Output.object(details)))
    }
    if trace { members.append(("trace", Output.json(tape))) }
    return Output.object(members) + "\n"
  }
}

/// `backprop softmax`: the fused and composed Jacobians against diag(s) − s sᵀ and central
/// differences, with the largest differences between them.
struct SoftmaxReport {
  let input: Tensor

  func result(json: Bool) -> CommandResult {
    let s = softmax(input)
    let fused = jacobian(at: input, of: softmax)
    let composed = jacobian(at: input, of: composedSoftmax)
    let analytic = softmaxJacobian(at: input)
    let differences = CentralDifferences(at: input, of: softmax)
    let numerical = differences.jacobian
    // Columns where the quotients over h and h/2 disagree: the step (relative to the input)
    // is too long for softmax there, and the difference from them would mean nothing.
    let unresolved = differences.resolved.indices.filter { !differences.resolved[$0] }
    let jacobians = [
      ("fused", "fused (one tape entry)", fused),
      ("composed", "composed (max, subtract, exp, sum, divide)", composed),
      ("analytic", "analytic diag(s) − s sᵀ", analytic),
      ("numerical", "central differences", numerical),
    ]
    let comparisons = [
      ("fused_composed", "fused − composed", fused.maxAbsoluteDifference(from: composed)),
      ("fused_analytic", "fused − analytic", fused.maxAbsoluteDifference(from: analytic)),
      ("composed_analytic", "composed − analytic", composed.maxAbsoluteDifference(from: analytic)),
      (
        "fused_numerical", "fused − central differences",
        unresolved.isEmpty ? fused.maxAbsoluteDifference(from: numerical) : .nan
      ),
    ]
    let note =
      unresolved.isEmpty
      ? ""
      : "  central differences cannot resolve softmax at inputs \(unresolved): the step there,"
        + " 1e-6·|x| = \(Output.number(differences.steps[unresolved[0]])) for the first, is"
        + " longer than the scale on which softmax changes, so no comparison is made\n"
    var errors = ""
    if !s.isFinite || !fused.isFinite {
      errors = "warning: the softmax is not finite; is an input NaN or infinite?\n"
    }
    if json {
      let output = Output.object([
        ("input", Output.json(input)), ("softmax", Output.json(s)),
        ("jacobian", Output.object(jacobians.map { ($0.0, Output.json($0.2)) })),
        ("differences", Output.object(comparisons.map { ($0.0, Output.json($0.2)) })),
        ("numerical_resolved", unresolved.isEmpty ? "true" : "false"),
        ("steps", Output.json(Tensor(differences.steps))),
      ])
      return CommandResult(status: 0, output: output + "\n", errors: errors)
    }
    var text = "input\n\(Output.text(input))\nsoftmax\n\(Output.text(s))\n"
    for (_, title, matrix) in jacobians { text += "\nJacobian, \(title)\n\(Output.text(matrix))\n" }
    text += "\nlargest absolute differences\n"
    let width = comparisons.map(\.1.count).max() ?? 0
    for (key, title, difference) in comparisons {
      text += "  " + title + String(repeating: " ", count: width - title.count + 2)
      text +=
        (key == "fused_numerical" && !unresolved.isEmpty
          ? "not resolved" : Output.number(difference)) + "\n"
    }
    text += note
    return CommandResult(status: 0, output: text, errors: errors)
  }
}
