import Backprop

/// Runs `grad`, `jacobian`, `hessian` or `check` on a checked expression.
struct Differentiation {
  let command: CommandName
  let expression: Expression
  let bindings: [(name: String, value: Tensor)]
  let json: Bool
  let trace: Bool
  let dot: Bool

  /// A mixed block of the Hessian: ∂²y/∂xᵢ∂xⱼ for two different variables, of shape
  /// xᵢ.shape + xⱼ.shape.
  struct MixedBlock {
    var first: String
    var second: String
    var value: Tensor
  }

  func run() -> CommandResult {
    // The NaN warning names where the computation first went non-finite.
    let tape = Tape(detectsAnomalies: true)
    let variables = bindings.map { tape.variable($0.value) }
    let environment = Dictionary(
      zip(bindings.map(\.name), variables), uniquingKeysWith: { first, _ in first })
    let y = evaluate(expression, environment)
    // The variables the result is differentiated in, in the order of --at; the others are
    // held constant (labels, conditions) or do not appear.
    let names = Set(expression.differentiableNames)
    let targets = bindings.indices.filter { names.contains(bindings[$0].name) }
    let targetVariables = targets.map { variables[$0] }

    let results: [Tensor]
    var mixed: [MixedBlock] = []
    var checks: [GradientCheckReport] = []
    switch command {
    case .grad:
      if y.tape != nil { y.backward() }
      results = targetVariables.map { y.tape != nil ? $0.grad! : .zeros($0.shape) }
    case .jacobian:
      results = jacobians(of: y, wrt: targetVariables)
    case .hessian:
      let rows = hessianRows(of: y, wrt: targetVariables)
      results = rows.indices.map { rows[$0][$0] }
      for i in rows.indices {
        for j in rows.indices where j != i {
          mixed.append(
            MixedBlock(
              first: bindings[targets[i]].name, second: bindings[targets[j]].name,
              value: rows[i][j]))
        }
      }
    case .check:
      checks = targets.map { position in
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
    if targets.isEmpty {
      errors +=
        "warning: "
        + (bindings.isEmpty
          ? "the expression has no variable" : "no variable bound by --at is differentiated")
        + ", so nothing was differentiated; only the value is printed\n"
    }
    if !y.value.isFinite || results.contains(where: { !$0.isFinite })
      || mixed.contains(where: { !$0.value.isFinite })
    {
      errors += "warning: the result is not finite"
      if let anomaly = tape.anomaly {
        errors += "; \(anomaly)"
      }
      errors += "\n"
    }
    // check: 0 passed, 1 failed, 3 inconclusive (2 is a usage error).
    let status: Int32 =
      checks.contains { $0.verdict == .failed }
      ? 1 : checks.allSatisfy(\.passed) ? 0 : 3
    if dot { return CommandResult(status: status, output: tape.graphviz(), errors: errors) }
    let report = Report(
      value: y.value, targets: targets.map { bindings[$0].name }, results: results, mixed: mixed,
      checks: checks,
      constants: bindings.map(\.name).filter { !names.contains($0) })
    let output = json ? jsonReport(report, tape: tape) : textReport(report, tape: tape)
    return CommandResult(status: status, output: output, errors: errors)
  }

  /// What a run found, for the text and JSON reports.
  struct Report {
    var value: Tensor
    /// The names differentiated in, each with its result (and check) at the same position.
    var targets: [String]
    var results: [Tensor]
    var mixed: [MixedBlock]
    var checks: [GradientCheckReport]
    /// The names bound but held constant or not in the expression.
    var constants: [String]
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

  /// Every block of the Hessian, `rows[i][j]` = ∂²y/∂xᵢ∂xⱼ: each variable's gradient is
  /// recorded on the tape, then differentiated row by row in every variable.
  private func hessianRows(of y: Variable, wrt xs: [Variable]) -> [[Tensor]] {
    xs.map { x in
      let g = gradient(of: y, wrt: x)
      guard g.tape != nil else { return xs.map { .zeros(x.shape + $0.shape) } }
      return jacobians(of: g, wrt: xs)
    }
  }

  private var resultName: String {
    switch command {
    case .grad, .check: "gradient"
    case .jacobian: "jacobian"
    case .hessian: "hessian"
    case .softmax: "softmax"
    }
  }

  private func textReport(_ report: Report, tape: Tape) -> String {
    var text = "value\n\(Output.text(report.value))\n"
    for (position, name) in report.targets.enumerated() {
      let result = report.results[position]
      text += "\n\(resultName) with respect to \(name), shape \(result.shape)\n"
      text += Output.text(result) + "\n"
      if command == .check {
        let check = report.checks[position]
        text += "central differences\n\(Output.text(check.numerical))\n"
        text += "  \(Self.word(check.verdict)): max absolute error "
        text += "\(Output.number(check.maxAbsoluteError)), max relative error "
        text += "\(Output.number(check.maxRelativeError)), worst entry \(check.worstIndex)\n"
        if !check.undecided.isEmpty {
          text += "  central differences cannot decide \(check.undecidedSummary)\n"
        }
      }
    }
    for block in report.mixed {
      text += "\nhessian with respect to \(block.first), then \(block.second) "
      text += "(∂²/∂\(block.first)∂\(block.second)), shape \(block.value.shape)\n"
      text += Output.text(block.value) + "\n"
    }
    if !report.constants.isEmpty {
      let appearing = Set(expression.names)
      let described = report.constants.map {
        appearing.contains($0) ? "\($0) (held constant)" : "\($0) (not in the expression)"
      }
      text += "\nnot differentiated: \(described.joined(separator: ", "))\n"
    }
    if command == .check {
      let checks = report.checks
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

  private func jsonReport(_ report: Report, tape: Tape) -> String {
    var members = [("value", Output.json(report.value))]
    let perVariable = report.targets.enumerated().map { position, name in
      (name, Output.json(report.results[position]))
    }
    members.append((resultName, Output.object(perVariable)))
    if command == .hessian && report.targets.count > 1 {
      // "mixed": {"x": {"y": ∂²/∂x∂y, …}, …}, every ordered pair of two variables.
      let rows = report.targets.map { first in
        (
          first,
          Output.object(
            report.mixed.filter { $0.first == first }.map { ($0.second, Output.json($0.value)) })
        )
      }
      members.append(("mixed", Output.object(rows)))
    }
    if !report.constants.isEmpty {
      members.append(
        ("constants", "[" + report.constants.map(Output.json).joined(separator: ", ") + "]"))
    }
    if command == .check {
      members.append(("passed", report.checks.allSatisfy(\.passed) ? "true" : "false"))
      let checks = report.checks
      let verdict: GradientCheckReport.Verdict =
        checks.contains { $0.verdict == .failed }
        ? .failed : checks.allSatisfy(\.passed) ? .passed : .inconclusive
      members.append(("verdict", Output.json(verdict.rawValue)))
      let details = report.targets.enumerated().map { position, name in
        let check = report.checks[position]
        return (
          name,
          Output.object([
            ("passed", check.passed ? "true" : "false"),
            ("verdict", Output.json(check.verdict.rawValue)),
            ("analytic", Output.json(check.analytic)),
            ("numerical", Output.json(check.numerical)),
            ("maxAbsoluteError", Output.json(check.maxAbsoluteError)),
            ("maxRelativeError", Output.json(check.maxRelativeError)),
            ("worstIndex", "[" + check.worstIndex.map(String.init).joined(separator: ", ") + "]"),
            (
              "undecided",
              "["
                + check.undecided.map {
                  Output.object([
                    ("index", "[" + $0.index.map(String.init).joined(separator: ", ") + "]"),
                    ("cause", Output.json($0.cause.rawValue)),
                  ])
                }.joined(separator: ", ") + "]"
            ),
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
    // Why each unresolved column means nothing: no step at a non-finite input, else a step
    // longer than the scale on which softmax changes.
    let x = input.scalars
    let unstepped = unresolved.filter { !x[$0].isFinite }
    let saturated = unresolved.filter { x[$0].isFinite }
    var note = ""
    if let first = saturated.first {
      note += "  central differences cannot resolve softmax at inputs \(saturated): the step there,"
      note += " 1e-6·max(1, |x|) = \(Output.number(differences.steps[first])) at input \(first),"
      note += " is longer than the scale on which softmax changes, so no comparison is made\n"
    }
    if !unstepped.isEmpty {
      note += "  central differences cannot resolve softmax at inputs \(unstepped): the input is"
      note += " not finite there, so no step can be taken\n"
    }
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
