// The reverse sweep as the algorithm reads, with none of the optimizations of
// `reverseSweep(from:seed:…)` (Tape+Sweep.swift): the definition that sweep must agree with,
// bit for bit, and the one to read first.

extension Tape {
  /// The adjoint of every entry up to `output`, seeded with ȳ = `seed`: the Wengert list in
  /// reverse order, each entry's VJP applied to its adjoint, each contribution added into its
  /// operand's adjoint. Nothing is taken, moved or overwritten, so the tape can be swept again.
  ///
  /// Runs on tensors (a gradient) and on recorded variables (a gradient that can itself be
  /// differentiated), as the optimized sweep does; a test requires the two to give the same
  /// bits over random programs of every family.
  func referenceSweep<T: TensorAlgebra>(from output: Int32, seed: T) -> [T?] {
    let records = entries
    var adjoints = [T?](repeating: nil, count: Int(output) + 1)
    adjoints[Int(output)] = seed
    for position in stride(from: Int(output), through: 0, by: -1) {
      let entry = records[position]
      guard entry.needsGradient, entry.op != .variable, entry.op != .constant,
        let cotangent = adjoints[position]
      else { continue }
      let (lhs, rhs) = (entry.lhs, entry.rhs)
      let wrt = (
        lhs >= 0 && records[Int(lhs)].needsGradient, rhs >= 0 && records[Int(rhs)].needsGradient
      )
      let (dx, dw) = referenceVJP(at: position, cotangent, wrt: wrt)
      for (operand, contribution) in [(lhs, dx), (rhs, dw)] {
        guard operand >= 0, let contribution else { continue }
        let i = Int(operand)
        adjoints[i] = adjoints[i].map { $0 + contribution } ?? contribution
      }
    }
    return adjoints
  }

  /// Entry `position`'s VJP, ȳ ↦ (x̄, w̄), by its generic rule (``vjp(_:_:x:w:y:wrt:function:)``)
  /// on operands lifted into T; three ops take what their forward pass saved, or the custom
  /// operation's own rule.
  private func referenceVJP<T: TensorAlgebra>(
    at position: Int, _ cotangent: T, wrt: (Bool, Bool)
  ) -> (T?, T?) {
    let entry = entries[position]
    func lift(_ code: Int32) -> T {
      code >= 0
        ? T.entry(code, value: entries[Int(code)].value, on: self)
        : T.constant(constants[Int(-2 - code)])
    }
    let output = T.entry(Int32(position), value: entry.value, on: self)
    let saved = T.self == Tensor.self ? savedTensor(for: Int32(position), taking: false) : nil
    switch entry.op {
    case .custom:
      let input = lift(entry.lhs)
      return (customPullback(at: Int32(position), cotangent, input: input, output: output), nil)
    case .crossEntropy:
      var softmax = saved
      return (
        CrossEntropy.pullback(
          cotangent, logits: lift(entry.lhs), labels: lift(entry.rhs), saved: &softmax), nil
      )
    case .logSumExp:
      return (LogSumExp.pullback(cotangent, x: lift(entry.lhs), y: output, saved: saved), nil)
    default:
      return Self.vjp(
        entry.op, cotangent, x: { lift(entry.lhs) }, w: { lift(entry.rhs) }, y: { output },
        wrt: wrt, function: entry.function)
    }
  }
}
