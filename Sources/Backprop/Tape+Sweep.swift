extension Tape {
  /// The reverse sweep: walks the list from `output` down to entry 0 and returns the adjoint of
  /// every entry, ∂⟨seed, output⟩/∂entry, or `nil` where the output does not depend on it.
  ///
  /// A loop, not a recursion: each entry's VJP adds into the adjoints of entries with smaller
  /// indices, so one pass in decreasing order sees every contribution to an adjoint before it
  /// uses it. Depth is never on the call stack, so a chain of 10⁷ entries is as safe as 10.
  ///
  /// With `T == Tensor` every VJP is evaluated at once. With `T == Variable` every VJP is
  /// recorded on this tape as new entries past `output`; the returned adjoints are then
  /// differentiable, and a later sweep from one of them differentiates this one.
  ///
  /// A `consuming` sweep is the tape's last: it takes what primitives saved for their VJPs out
  /// of the tape, so a VJP may reuse that storage for its result instead of allocating, and it
  /// keeps only the leaves' adjoints, dropping each inner entry's once its VJP has run.
  ///
  /// `observe`, if given, sees the adjoints after each entry's VJP has been applied: the
  /// entry's position and every adjoint so far (a learner's replay; it costs a copy per step).
  func reverseSweep<T: TensorAlgebra>(
    from output: Int32, seed: T, consuming: Bool = false,
    observe: ((Int, [T?]) -> Void)? = nil
  ) -> [T?] {
    var adjoints: [T?] = []
    reverseSweep(from: output, seed: seed, into: &adjoints, consuming: consuming, observe: observe)
    return adjoints
  }

  /// ``reverseSweep(from:seed:consuming:observe:)`` writing the adjoints into `adjoints`,
  /// whose storage is reused when it already has one slot per entry up to `output`: a caller
  /// that sweeps once per row of a Jacobian allocates the array once.
  func reverseSweep<T: TensorAlgebra>(
    from output: Int32, seed: T, into adjoints: inout [T?], consuming: Bool = false,
    observe: ((Int, [T?]) -> Void)? = nil
  ) {
    let count = Int(output) + 1
    if adjoints.count == count {
      for slot in 0..<count { adjoints[slot] = nil }
    } else {
      // Each slot set to nil directly: `init(repeating:count:)` would copy a nil, through the
      // type's value witness, once per entry.
      adjoints = [T?](unsafeUninitializedCapacity: count) { slots, initialized in
        for slot in slots.indices { (slots.baseAddress! + slot).initialize(to: nil) }
        initialized = slots.count
      }
    }
    adjoints[Int(output)] = seed

    func accumulate(_ contribution: T?, into index: Int32) {
      guard let contribution else { return }
      let i = Int(index)
      // Taken out of the array, the adjoint is held once, so a tensor adds in place.
      if var existing = adjoints[i].take() {
        existing.accumulate(contribution)
        adjoints[i] = existing
      } else {
        adjoints[i] = contribution
      }
    }

    // One read of the list for the whole loop: the class property is checked for exclusive
    // access on every read, and the loop reads it several times per entry. When T is Variable
    // the sweep appends to the live list, which copies it once; the snapshot stays as it was.
    let records = entries
    let constants = self.constants
    let detectsAnomalies = self.detectsAnomalies
    var position = Int(output)
    while position >= 0 {
      defer { position -= 1 }
      let (op, lhs, rhs) = (records[position].op, records[position].lhs, records[position].rhs)
      guard records[position].needsGradient, op != .variable, op != .constant else { continue }
      // The tape's last sweep returns only the leaves' adjoints, so it lets go of each inner
      // entry's adjoint once used: its memory is free for the next VJP's result.
      guard let cotangent = consuming ? adjoints[position].take() : adjoints[position] else {
        continue
      }
      // The operands x and w and the output y, lifted into T when a rule asks for them: each
      // is a copy, and most rules read one or two of the three. An operand is an entry, or a
      // constant (code ≤ −2).
      func operand(_ code: Int32) -> T {
        code >= 0
          ? T.entry(code, value: records[Int(code)].value, on: self)
          : T.constant(constants[Int(-2 - code)])
      }
      func x() -> T { operand(lhs) }
      func w() -> T { operand(rhs) }
      func y() -> T { T.entry(Int32(position), value: records[position].value, on: self) }
      let wrt = (
        lhs >= 0 && records[Int(lhs)].needsGradient, rhs >= 0 && records[Int(rhs)].needsGradient
      )

      // One line per primitive: the rule itself lives beside the primitive's forward pass.
      let (dx, dw): (T?, T?)
      switch op {
      case .variable, .constant: preconditionFailure("a leaf has no VJP")
      case .add: (dx, dw) = Add.pullback(cotangent, a: x(), b: w(), wrt: wrt)
      case .subtract: (dx, dw) = Subtract.pullback(cotangent, a: x(), b: w(), wrt: wrt)
      case .multiply: (dx, dw) = Multiply.pullback(cotangent, a: x(), b: w(), wrt: wrt)
      case .divide: (dx, dw) = Divide.pullback(cotangent, a: x(), b: w(), y: y(), wrt: wrt)
      case .negate: (dx, dw) = (Negate.pullback(cotangent), nil)
      case .exp: (dx, dw) = (Exp.pullback(cotangent, y: y()), nil)
      case .log: (dx, dw) = (Log.pullback(cotangent, x: x()), nil)
      case .sqrt: (dx, dw) = (Sqrt.pullback(cotangent, y: y()), nil)
      case .pow: (dx, dw) = (Pow.pullback(cotangent, x: x(), exponent: w()), nil)
      case .tanh: (dx, dw) = (Tanh.pullback(cotangent, y: y()), nil)
      case .maximum: (dx, dw) = Maximum.pullback(cotangent, a: x(), b: w(), wrt: wrt)
      case .select: (dx, dw) = (Select.pullback(cotangent, mask: w()), nil)
      case .sum: (dx, dw) = (Sum.pullback(cotangent, x: x()), nil)
      case .max: (dx, dw) = (Max.pullback(cotangent, x: x(), y: y()), nil)
      case .matmul: (dx, dw) = Matmul.pullback(cotangent, a: x(), b: w(), wrt: wrt)
      case .reshape: (dx, dw) = (Reshape.pullback(cotangent, x: x()), nil)
      case .transpose: (dx, dw) = (Transpose.pullback(cotangent), nil)
      case .broadcast: (dx, dw) = (Broadcast.pullback(cotangent, x: x()), nil)
      case .softmax: (dx, dw) = (Softmax.pullback(cotangent, y: y()), nil)
      case .logSoftmax: (dx, dw) = (LogSoftmax.pullback(cotangent, y: y()), nil)
      case .crossEntropy:
        // A consuming sweep takes the saved softmax out of the table, so the VJP can write the
        // gradient into its storage; otherwise the table keeps its copy.
        var saved = savedTensor(for: Int32(position), taking: consuming)
        (dx, dw) = (CrossEntropy.pullback(cotangent, logits: x(), labels: w(), saved: &saved), nil)
      }
      if detectsAnomalies && anomaly == nil {
        for contribution in [dx, dw] {
          if let value = contribution?.value, !value.isFinite {
            anomaly = Anomaly(phase: .backward, entry: position, value: value, on: self)
            break
          }
        }
      }
      if wrt.0 { accumulate(dx, into: lhs) }
      if wrt.1 { accumulate(dw, into: rhs) }
      observe?(position, adjoints)
    }
  }
}
