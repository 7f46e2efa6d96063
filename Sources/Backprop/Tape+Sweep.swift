internal import BackpropKernels

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
  /// `observe`, if given, sees each entry's VJP applied: the entry's position and the adjoints
  /// it changed, its operands' new values (a learner's replay; O(1) a step, so a replay of n
  /// entries keeps O(n) tensors, not a copy of every adjoint per step).
  func reverseSweep<T: TensorAlgebra>(
    from output: Int32, seed: T, consuming: Bool = false, downTo lowest: Int = 0,
    observe: ((Int, [(Int, T)]) -> Void)? = nil
  ) -> [T?] {
    var adjoints: [T?] = []
    reverseSweep(
      from: output, seed: seed, into: &adjoints, consuming: consuming, downTo: lowest,
      observe: observe)
    return adjoints
  }

  /// ``reverseSweep(from:seed:consuming:observe:)`` writing the adjoints into `adjoints`,
  /// whose storage is reused when it already has one slot per entry up to `output`: a caller
  /// that sweeps once per row of a Jacobian allocates the array once.
  func reverseSweep<T: TensorAlgebra>(
    from output: Int32, seed: T, into adjoints: inout [T?], consuming: Bool = false,
    downTo lowest: Int = 0, observe: ((Int, [(Int, T)]) -> Void)? = nil
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
    adjoints.withUnsafeMutableBufferPointer { slots in
      reverseSweep(
        from: output, seed: seed, slots: slots, consuming: consuming, downTo: lowest,
        observe: observe)
    }
  }

  /// The adjoint of entry `index` alone, from a sweep whose other adjoints live only for the
  /// call: the path of a gradient with respect to one input. The slots are freed one by one
  /// in code specialized for T, where an array would free them through T's value witnesses,
  /// a call per slot that cost a scalar chain 10%.
  func adjoint<T: TensorAlgebra>(
    of index: Int32, sweepingFrom output: Int32, seed: T, consuming: Bool
  ) -> T? {
    let count = Int(output) + 1
    let slots = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
    for slot in 0..<count { (slots.baseAddress! + slot).initialize(to: nil) }
    defer {
      for slot in 0..<count { _ = (slots.baseAddress! + slot).move() }
      slots.deallocate()
    }
    reverseSweep(
      from: output, seed: seed, slots: slots, consuming: consuming, downTo: 0, observe: nil)
    return Int(index) < count ? slots[Int(index)] : nil
  }

  /// The sweep itself, over `slots`, which hold nil for every entry up to `output`. It stops
  /// after entry `lowest`: entries below it receive what flows into them but apply no VJP (a
  /// region's sweep that wants only its input's adjoint).
  private func reverseSweep<T: TensorAlgebra>(
    from output: Int32, seed: T, slots adjoints: UnsafeMutableBufferPointer<T?>, consuming: Bool,
    downTo lowest: Int, observe: ((Int, [(Int, T)]) -> Void)?
  ) {
    adjoints[Int(output)] = seed

    // One read of the list for the whole loop, into a local the optimizer can keep in
    // registers, where each read of a class property is a load through `self`. When T is
    // Variable the sweep appends to the live list, which copies it once; the snapshot stays
    // as it was, so the loop never sees the entries it adds.
    let records = entries
    let constants = self.constants
    let detectsAnomalies = self.detectsAnomalies
    // Uniform cotangents: a consuming sweep of tensors passes a full sum's ȳ on to a large
    // operand as the rank-0 tensor it is, standing for ȳ at every position, instead of a
    // tensor of copies (a buffer, a pass, and on a fresh heap its page faults). The one-pass
    // VJPs read it as it is (see `Tensor.pulling`); anywhere else it is spread first, and every
    // adjoint the sweep hands back is spread.
    let passesUniform = consuming && T.self == Tensor.self && observe == nil
    var spreads = false
    // A consuming sweep of a tape that no one can read again (see `valuesAreDisposable`) owns
    // the list: each entry's value is moved out for its VJP, which may write its result over
    // the value's buffer, once the entries that read it (all later ones) have run.
    let disposes = passesUniform && valuesAreDisposable && !detectsAnomalies
    if disposes { entries = [] }
    /// Exchanges entry `index`'s value with `value` in the list, which this disposing sweep
    /// holds alone (the tape's own reference is gone). Through a pointer, because `records`
    /// as a `var` adds to every entry of a scalar chain (W1). Should the optimizer reuse
    /// a read of the value from before, the worst it can do is keep a second reference, and
    /// then the VJP writes into a new buffer instead: never a wrong value.
    func exchangeValue(at index: Int, with value: inout Tensor) {
      records.withUnsafeBufferPointer { list in
        swap(&UnsafeMutablePointer(mutating: list.baseAddress! + index).pointee.value, &value)
      }
    }
    /// Entry `index`'s adjoint as the tensor it stands for: a uniform one spread to the entry's
    /// shape (with the same numbers as the sum's VJP would have given).
    func spread(_ adjoint: T?, at index: Int) -> T? {
      guard spreads, let tensor = adjoint as? Tensor, case .scalar(let c) = tensor.storage,
        !records[index].value.shape.isEmpty
      else { return adjoint }
      return Sum.pullback(Tensor(c), x: records[index].value) as? T
    }

    // One-hot cotangents: a consuming sweep of tensors records a pick's VJP (one scalar sliced
    // out of a large operand, `x[k]`) as its position and value rather than a tensor of zeros
    // with one entry. Log-softmax reads it as it is, in one pass over its output and no zeros
    // at all; anywhere else, and as soon as a second contribution arrives, it is written out.
    // Rare, so a list searched from the end, not a dictionary.
    // Only a consuming sweep of tensors makes them; every other sweep (a scalar chain's among
    // them) tests this constant and never touches the list, which its closures would reach
    // through a box (that cost the scalar chain 15%).
    let picksOneHot = passesUniform && !detectsAnomalies
    var oneHots: [(entry: Int, position: Int, value: Double)] = []
    /// The one-hot cotangent pending for entry `index`, taken out of the list.
    func takeOneHot(of index: Int) -> (position: Int, value: Double)? {
      guard picksOneHot, !oneHots.isEmpty,
        let found = oneHots.lastIndex(where: { $0.entry == index })
      else {
        return nil
      }
      let pending = oneHots.remove(at: found)
      return (pending.position, pending.value)
    }
    /// A one-hot cotangent written out for entry `index`: what the slice's VJP would have made.
    func written(_ pending: (position: Int, value: Double), at index: Int) -> T {
      let shape = records[index].value.shape
      let count = shape.reduce(1, *)
      return Tensor(shape: shape, count: count) { out in
        out.initialize(repeating: 0)
        out[pending.position] = pending.value
      } as! T
    }

    /// Whether nothing has flowed into entry `index` yet.
    func isEmpty(_ index: Int32) -> Bool {
      adjoints[Int(index)] == nil
        && (!picksOneHot || oneHots.isEmpty || !oneHots.contains { $0.entry == index })
    }

    func accumulate(_ contribution: T?, into index: Int32) {
      guard var contribution else { return }
      let i = Int(index)
      if picksOneHot, let pending = takeOneHot(of: i) { adjoints[i] = written(pending, at: i) }
      // Taken out of the array, the adjoint is held once, so a tensor adds in place.
      if var existing = adjoints[i].take() {
        if spreads {
          (existing, contribution) = (spread(existing, at: i)!, spread(contribution, at: i)!)
        }
        existing.accumulate(contribution)
        adjoints[i] = existing
      } else {
        adjoints[i] = contribution
      }
    }
    /// Operand `code`'s value: an entry's, or a constant's (code ≤ −2).
    func operand(_ code: Int32) -> Tensor {
      code >= 0 ? records[Int(code)].value : constants[Int(-2 - code)]
    }
    /// Operand `code` lifted into T: an entry of this tape, or a constant.
    func lift(_ code: Int32) -> T {
      code >= 0 ? T.entry(code, value: operand(code), on: self) : T.constant(operand(code))
    }
    var position = Int(output)
    while position >= lowest {
      defer { position -= 1 }
      let (op, lhs, rhs) = (records[position].op, records[position].lhs, records[position].rhs)
      guard records[position].needsGradient, op != .variable, op != .constant else {
        if picksOneHot, op == .variable, let pending = takeOneHot(of: position) {
          adjoints[position] = written(pending, at: position)
        }
        if spreads && op == .variable {
          adjoints[position] = spread(adjoints[position], at: position)
        }
        continue
      }
      // The tape's last sweep returns only the leaves' adjoints, so it lets go of each inner
      // entry's adjoint once used: its memory is free for the next VJP's result, and an
      // elementwise VJP below writes its result over it when nothing else holds it.
      var taken = consuming ? adjoints[position].take() : adjoints[position]
      // Nothing else arrived after a one-hot cotangent (that would have written it out).
      var oneHot = picksOneHot && taken == nil ? takeOneHot(of: position) : nil
      if let pending = oneHot, op != .logSoftmax {
        taken = written(pending, at: position)
        oneHot = nil
      }
      if taken == nil && oneHot == nil { continue }
      let wrt = (
        lhs >= 0 && records[Int(lhs)].needsGradient, rhs >= 0 && records[Int(rhs)].needsGradient
      )

      let (dx, dw): (T?, T?)
      if let oneHot {
        // Log-softmax, the one rule that takes a one-hot cotangent as it is.
        var value = Tensor(0)
        if disposes {
          exchangeValue(at: position, with: &value)
        } else {
          value = records[position].value
        }
        (dx, dw) = (LogSoftmax.pullback(oneHot: oneHot, y: &value) as? T, nil)
      } else if picksOneHot, op == .slice, wrt.0, isEmpty(lhs),
        records[position].value.scalarCount == 1,
        records[Int(lhs)].value.scalarCount >= LargeBuffer.threshold
      {
        // A pick of one scalar out of a large operand whose adjoint is still empty: its VJP
        // becomes a one-hot cotangent (see `oneHots`), not a tensor of zeros. The pick is told
        // by the slice's own size: its cotangent has one scalar also when it is a uniform
        // stand-in for a large slice (a full sum's), which had been taken for a pick, giving
        // sum(x[a..<b]) of a large x a one-hot gradient.
        let box = Box(operand(rhs))
        let strides = Shape.contiguousStrides(box.shape)
        let offset = zip(box.lower, strides).reduce(0) { $0 + $1.0 * $1.1 }
        oneHots.append((Int(lhs), offset, (taken! as! Tensor).withUnsafeScalars { $0[0] }))
        continue
      } else if T.self == Tensor.self, op.isElementwise,
        case .scalar(let y) = records[position].value.storage
      {
        // A rank-0 elementwise entry has a rank-0 cotangent and operands too. Its rule runs on
        // Double, the same generic rule with no tensors to copy, tag or unwrap: most of a
        // scalar chain. (The cotangent is read only here, so that no copy of it is alive when
        // a rule below may overwrite it.)
        let g = (taken! as! Tensor).scalar!
        let (a, b) = Self.vjp(
          op, g, x: { operand(lhs).scalar! }, w: { operand(rhs).scalar! }, y: { y }, wrt: wrt,
          function: records[position].function)
        (dx, dw) = (a.map { Tensor($0) } as! T?, b.map { Tensor($0) } as! T?)
      } else if passesUniform, op == .sum, lhs >= 0, case .scalar = records[position].value.storage,
        records[Int(lhs)].value.scalarCount >= LargeBuffer.threshold
      {
        // A full sum: its VJP would spread ȳ over x's shape; x is large, so ȳ goes on as it is.
        (dx, dw) = (taken, nil)
        spreads = true
      } else if T.self == Tensor.self, op == .sigmoid || op == .elementary,
        var derivative = savedTensor(for: Int32(position), taking: consuming)
      {
        // f′, which the forward pass kept (σ′ for `sigmoid(_:)`, σ + xσ′ for `swish(_:)`): the
        // VJP is one product, over f′'s buffer when the sweep took it, with no second
        // exponential.
        var g = taken.take() as! Tensor?
        (dx, dw) = (Sigmoid.pullback(&g, x: operand(lhs), derivative: &derivative) as? T, nil)
      } else if T.self == Tensor.self, op.mayFusePullback,
        let results = withUnsafeMutablePointer(
          to: &taken,
          {
            // T is Tensor here: the slot is a Tensor?, passed as one so that the rule can take
            // the cotangent out of it and, held once, overwrite it.
            $0.withMemoryRebound(to: Tensor?.self, capacity: 1) { slot in
              var value = Tensor(0)
              if disposes {
                exchangeValue(at: position, with: &value)
              } else {
                value = records[position].value
              }
              let results = Self.fusedPullback(
                op, &slot.pointee, x: operand(lhs), w: rhs == -1 ? nil : operand(rhs),
                y: &value, wrt: wrt, function: records[position].function,
                joined: lhs == rhs && lhs >= 0 && isEmpty(lhs))
              // The generic rule below reads the value from the list.
              if results == nil && disposes { exchangeValue(at: position, with: &value) }
              return results
            }
          })
      {
        (dx, dw) = (results.0 as! T?, results.1 as! T?)
      } else if spreads, let spread = spread(taken, at: position), spread.shape != taken!.shape {
        // A uniform cotangent for a rule that reads it as a tensor: spread, and this entry
        // again (the loop's `defer` steps down, so step up first).
        adjoints[position] = spread
        position += 1
        continue
      } else if op == .custom {
        (dx, dw) = (
          customPullback(
            at: Int32(position), taken!, input: lift(lhs),
            output: T.entry(Int32(position), value: records[position].value, on: self)), nil
        )
      } else if op == .crossEntropy {
        // A consuming sweep takes the saved softmax out of the table, so the VJP can write the
        // gradient into its storage; otherwise the table keeps its copy.
        var saved = savedTensor(for: Int32(position), taking: consuming)
        let (logits, labels) = (lift(lhs), lift(rhs))
        (dx, dw) = (
          CrossEntropy.pullback(taken!, logits: logits, labels: labels, saved: &saved), nil
        )
      } else if op == .logSumExp {
        // The shift and sum of each row, which the plain-tensor rule reads (and leaves).
        (dx, dw) = (
          LogSumExp.pullback(
            taken!, x: lift(lhs),
            y: T.entry(Int32(position), value: records[position].value, on: self),
            saved: T.self == Tensor.self ? savedTensor(for: Int32(position), taking: false) : nil),
          nil
        )
      } else {
        // The operands and the output are lifted into T only when the rule reads them: each is
        // a copy, and most rules read one or two of the three.
        (dx, dw) = Self.vjp(
          op, taken!, x: { lift(lhs) }, w: { lift(rhs) },
          y: { T.entry(Int32(position), value: records[position].value, on: self) }, wrt: wrt,
          function: records[position].function)
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
      if detectsAnomalies && anomaly == nil {
        // Finite contributions can still sum to ∞: look at what each operand now holds.
        for operand in [lhs, rhs] where operand >= 0 {
          if let sum = adjoints[Int(operand)]?.value, !sum.isFinite {
            anomaly = Anomaly(phase: .accumulation, entry: Int(operand), value: sum, on: self)
            break
          }
        }
      }
      if let observe {
        var changed: [(Int, T)] = []
        if wrt.0, let adjoint = adjoints[Int(lhs)] { changed.append((Int(lhs), adjoint)) }
        if wrt.1, rhs != lhs, let adjoint = adjoints[Int(rhs)] {
          changed.append((Int(rhs), adjoint))
        }
        observe(position, changed)
      }
    }
    // Entries below `lowest` received what flowed into them and ran no VJP.
    for pending in oneHots where picksOneHot && pending.entry < lowest {
      adjoints[pending.entry] = written((pending.position, pending.value), at: pending.entry)
    }
    if spreads {
      for index in 0..<Swift.min(lowest, Int(output) + 1) {
        adjoints[index] = spread(adjoints[index], at: index)
      }
    }
  }

  /// One entry's vector-Jacobian product: the cotangents of its operands x and w, given its
  /// own cotangent, or `nil` where an operand needs none. One line per primitive; the rule
  /// itself lives beside the primitive's forward pass. Generic, so that the sweep runs it on
  /// tensors, on recorded variables (reverse over reverse) and on rank-0 entries' `Double`s.
  @inline(__always)
  static func vjp<U: TensorAlgebra>(
    _ op: Op, _ cotangent: U, x: () -> U, w: () -> U, y: () -> U, wrt: (Bool, Bool),
    function: UInt8
  ) -> (U?, U?) {
    switch op {
    case .variable, .constant, .crossEntropy, .logSumExp, .custom:
      fail("\(op.name): no VJP of this form")
    case .add: return Add.pullback(cotangent, a: x(), b: w(), wrt: wrt)
    case .subtract: return Subtract.pullback(cotangent, a: x(), b: w(), wrt: wrt)
    case .multiply: return Multiply.pullback(cotangent, a: x(), b: w(), wrt: wrt)
    case .divide: return Divide.pullback(cotangent, a: x(), b: w(), y: y(), wrt: wrt)
    case .negate: return (Negate.pullback(cotangent), nil)
    case .exp: return (Exp.pullback(cotangent, y: y()), nil)
    case .log: return (Log.pullback(cotangent, x: x()), nil)
    case .sqrt: return (Sqrt.pullback(cotangent, y: y()), nil)
    case .pow: return (Pow.pullback(cotangent, x: x(), exponent: w()), nil)
    case .tanh: return (Tanh.pullback(cotangent, y: y()), nil)
    case .sigmoid: return (Sigmoid.pullback(cotangent, x: x(), y: y()), nil)
    case .maximum: return Maximum.pullback(cotangent, a: x(), b: w(), wrt: wrt)
    case .select: return (Select.pullback(cotangent, mask: w()), nil)
    case .sum: return (Sum.pullback(cotangent, x: x()), nil)
    case .max: return (Max.pullback(cotangent, x: x(), y: y()), nil)
    case .matmul: return Matmul.pullback(cotangent, a: x(), b: w(), wrt: wrt)
    case .reshape: return (Reshape.pullback(cotangent, x: x()), nil)
    case .transpose: return (Transpose.pullback(cotangent), nil)
    case .broadcast: return (Broadcast.pullback(cotangent, x: x()), nil)
    case .slice, .pad, .gather, .scatterAdd, .prod, .concatenate, .elementary,
      .binaryElementary:
      return libraryVJP(op, cotangent, x: x, w: w, y: y, wrt: wrt, function: function)
    case .softmax: return (Softmax.pullback(cotangent, y: y()), nil)
    case .logSoftmax: return (LogSoftmax.pullback(cotangent, y: y()), nil)
    }
  }

  /// The VJP of arithmetic with a broadcast operand that needs no gradient (the 2 in `2 * x`, the
  /// 1 in `x - 1`, a constant row added to a matrix), to the operand of the output's shape: one
  /// pass, or none for a sum or a difference, which pass the cotangent on (a rank-0 one stays
  /// so). The general rule spread the cotangent, broadcast the other operand and combined them:
  /// two new tensors and two passes. The numbers are the rules' (Add, Subtract, Multiply and
  /// Divide, scalar by scalar: ȳ, −ȳ, ȳ c, ȳ ⊘ c, −((ȳ ⊙ y) ⊘ b) for c ⊘ b). Returns nil,
  /// leaving the cotangent, when the broadcast operand needs a gradient (a reduction, which the
  /// general rule does), for a product or quotient with a broadcast operand of more than one
  /// scalar unless the cotangent is uniform, and for other ops.
  @inline(never)
  static func broadcastOperandPullback(
    _ op: Op, _ cotangent: inout Tensor?, x: Tensor, w: Tensor, y: inout Tensor,
    wrt: (Bool, Bool), function: UInt8 = 0
  ) -> (Tensor?, Tensor?)? {
    let broadcastFirst = x.shape != y.shape
    let (tensor, other) = broadcastFirst ? (w, x) : (x, w)
    guard !(broadcastFirst ? wrt.0 : wrt.1), tensor.shape == y.shape, !y.shape.isEmpty,
      let given = cotangent?.shape, given.isEmpty || given == tensor.shape
    else { return nil }
    let result: Tensor
    switch op {
    case .add: result = cotangent.take()!
    case .subtract where !broadcastFirst: result = cotangent.take()!
    case .subtract:
      result = .pulling(&cotangent, tensor, tensor, output: &y) { g, _, _, _ in -g }
    case .multiply, .divide:
      if case .scalar(let c) = other.storage {
        return scalarOperandPullback(op, &cotangent, tensor, c, broadcastFirst, y: &y)
      }
      // A uniform cotangent against a broadcast row or column: ȳ ⊙ b (or ȳ ⊘ b) at b's own
      // size, then spread once, where the general rule spread ȳ and then multiplied by b
      // spread, two full passes. The same products, scalar by scalar.
      guard case .scalar(let c)? = cotangent?.storage, op == .multiply || !broadcastFirst
      else { return nil }
      cotangent = nil
      let small =
        op == .multiply ? Multiply.forward(Tensor(c), other) : Divide.forward(Tensor(c), other)
      result = small.broadcasted(to: y.shape)
    case .maximum:
      // The tensor's share against the scalar, on either side: ȳ ⊙ share(x, c), ½ at a tie.
      // Share.scalar's values, with NaN tested by comparison and c's once, so that the loop
      // compiles to compares and blends (`isNaN` per scalar kept it scalar and branching).
      guard case .scalar(let c) = other.storage else { return nil }
      // Two selections of constants summed, as Minimum.Share, so that the loop blends.
      let unordered = c != c
      result = .pulling(&cotangent, tensor, tensor, output: &y) { g, a, _, _ in
        let greater: Double = a > c ? 1 : 0
        let tie: Double = a == c ? 0.5 : 0
        return g * (unordered || a != a ? .nan : greater + tie)
      }
    case .pow:
      // x̄ = ȳ ⊙ p xᵖ⁻¹ (Pow's rule, whose xᵖ⁻¹ is Pow.scalar's): none for p = 0, ȳ for p = 1.
      guard case .scalar(let p) = other.storage else { return nil }
      if p == 0 { return (nil, nil) }
      if p == 1 {
        result = cotangent.take()!
      } else if Pow.isVectorized(p - 1) {
        // xᵖ⁻¹ by the integer- or half-integer-power kernel in one vectorized pass (Pow.scalar's
        // bits), where the loop below would call it a scalar.
        let powers = Pow.forward(tensor, Tensor(p - 1))
        result = .pulling(&cotangent, powers, powers, output: &y) { g, q, _, _ in g * (p * q) }
      } else {
        let d = p - 1
        result = .pulling(&cotangent, tensor, tensor, output: &y) { g, a, _, _ in
          g * (p * Pow.scalar(a, d))
        }
      }
    case .binaryElementary:
      // A constant scalar operand (huberLoss's δ, pow(x, t) with t constant): filled to the
      // tensor's shape, one pass, then the function's own one-pass rule on operands of one
      // shape, where the general rule computed each partial derivative in several passes with
      // broadcasting. The same scalar operations, so the same numbers.
      guard case .scalar(let c) = other.storage else { return nil }
      let function = Elementary.binary[Int(function)]
      // A second operand the function has a one-pass rule for needs no filling.
      if !broadcastFirst, let result = function.pullback(&cotangent, a: tensor, constant: c, y: &y)
      {
        return (result, nil)
      }
      let filled = Tensor(repeating: c, shape: y.shape)
      return function.fusedPullback(
        &cotangent, a: broadcastFirst ? filled : tensor, b: broadcastFirst ? tensor : filled,
        y: &y, wrt: wrt)
    default: return nil
    }
    return broadcastFirst ? (nil, result) : (result, nil)
  }

  /// ``broadcastOperandPullback(_:_:x:w:y:wrt:function:)``'s product and quotient with a scalar `c`.
  static func scalarOperandPullback(
    _ op: Op, _ cotangent: inout Tensor?, _ tensor: Tensor, _ c: Double, _ scalarFirst: Bool,
    y: inout Tensor
  ) -> (Tensor?, Tensor?)? {
    let result: Tensor
    switch op {
    case .multiply:
      result = .pulling(&cotangent, tensor, tensor, output: &y) { g, _, _, _ in g * c }
    case .divide where !scalarFirst:
      result = .pulling(&cotangent, tensor, tensor, output: &y) { g, _, _, _ in g / c }
    case .divide:
      result = .pulling(&cotangent, tensor, tensor, output: &y) { g, b, _, y in -((g * y) / b) }
    default: return nil
    }
    return scalarFirst ? (nil, result) : (result, nil)
  }

  /// The VJP of an elementwise entry on tensors of one shape (no broadcasting), in one pass:
  /// the entry's rule on `Double`, scalar by scalar, written over the cotangent's own buffer
  /// when nothing else holds it (the sweep took it out of its slot), else into one new buffer.
  /// Where the rule takes several operations (tanh's ȳ ⊙ (1 − y ⊙ y), an elementary function's
  /// ȳ ⊙ f′(x)) that is one pass and one buffer instead of one per operation; where it takes one
  /// (ȳ ⊙ y for exp), no buffer at all when the cotangent is free. The numbers are the rule's:
  /// each operation of the tensor rule is itself scalar by scalar (a test holds them to the
  /// bit).
  ///
  /// Returns `nil`, leaving `cotangent` untouched, for every other op and for broadcasting
  /// operands: the generic rule runs then.
  ///
  /// `joined` says that both operands are one entry whose adjoint is still empty (x ⊙ x, x + x):
  /// its two contributions, which the sweep would store and then add, are then added here in the
  /// same pass, t + t with t = ȳ ⊙ x, which is the same sum; one buffer fewer, one pass fewer.
  @inline(never)
  static func fusedPullback(
    _ op: Op, _ cotangent: inout Tensor?, x: Tensor, w: Tensor?, y: inout Tensor,
    wrt: (Bool, Bool), function: UInt8, joined: Bool = false
  ) -> (Tensor?, Tensor?)? {
    if op == .max {
      return Max.fusedPullback(&cotangent, x: x, y: y).map { ($0, nil) }
    }
    if op == .slice, let w { return Box.fusedPullback(&cotangent, box: w).map { ($0, nil) } }
    if op == .concatenate {
      // Each part of a uniform cotangent (rank 0, where the joined y never is) is the same
      // value at every position: rank 0 still.
      guard cotangent?.shape.isEmpty == true else { return nil }
      let g = cotangent.take()
      return (wrt.0 ? g : nil, wrt.1 ? g : nil)
    }
    if let w, x.shape != w.shape {
      return broadcastOperandPullback(
        op, &cotangent, x: x, w: w, y: &y, wrt: wrt, function: function)
    }
    let shape = x.shape
    guard let given = cotangent?.shape, !shape.isEmpty else { return nil }
    // A rank-0 cotangent of a larger entry stands for its value at every position (see the
    // sweep's uniform cotangents). The cases that return one result take it as it is; the
    // others return nil for the sweep to spread it first.
    let uniform = given.isEmpty
    guard uniform || given == shape else { return nil }
    // Each case passes its rule as a closure literal to an always-inlined loop, so the loop is
    // specialized for it and vectorizes (a closure kept in a variable would be called per scalar).
    switch op {
    case .exp:
      if let y = Tensor.unitScaled(&cotangent, &y) { return (y, nil) }
      return (.pulling(&cotangent, x, x, output: &y) { g, _, _, y in Exp.pullback(g, y: y) }, nil)
    case .log:
      // ȳ ⊘ x, Log.pullback's rule, by the vectorized quotient kernel.
      return (.pulling(&cotangent, x, output: &y, rule: bp_rule_dividend_pullback), nil)
    case .sqrt:
      // ȳ ⊘ (2y), Sqrt.pullback's rule, by the vectorized kernel.
      return (
        .pulling(&cotangent, x, output: &y, rule: bp_rule_square_root_pullback, readsOutput: true),
        nil
      )
    case .negate:
      return (.pulling(&cotangent, x, x, output: &y) { g, _, _, _ in Negate.pullback(g) }, nil)
    case .tanh:
      return (
        .pulling(&cotangent, x, x, output: &y) { g, _, _, y in Tanh.pullback(g, y: y) }, nil
      )
    case .sigmoid: return (Sigmoid.fusedPullback(&cotangent, x: x, y: &y), nil)
    case .logSoftmax:
      return uniform ? nil : (LogSoftmax.fusedPullback(&cotangent, y: y), nil)
    case .elementary:
      return (Elementary.unary[Int(function)].fusedPullback(&cotangent, x: x, y: &y), nil)
    default: break
    }
    // Two operands of the cotangent's shape. The second operand's cotangent is computed first,
    // into a buffer of its own if the first needs the cotangent too; the first's is then written
    // over the cotangent. These rules restate Multiply's, Divide's, Subtract's, Maximum's and
    // Select's scalar by scalar (KernelTests holds them to the bit): calling those primitives'
    // generic pullbacks on Doubles inside the loop was measured 3–4 times slower, as their
    // optional pairs and rank-0 tensors are not optimized away per scalar.
    guard let w, w.shape == shape else { return nil }
    if joined && wrt.0 && wrt.1 {
      switch op {
      case .multiply:
        return (
          .pulling(&cotangent, x, x, output: &y) { g, a, _, _ in
            let t = g * a
            return t + t
          }, nil
        )
      case .add: return (.pulling(&cotangent, x, x, output: &y) { g, _, _, _ in g + g }, nil)
      default: break
      }
    }
    // Both operands' results from one uniform cotangent (the sum of x · y, or of x · x · x):
    // the second operand's goes to a new buffer, from a copy of the rank-0 cotangent, so that
    // the first's may still take the output's buffer. Spreading the cotangent first made one
    // 8 MB tensor more at n = 10⁶ and a pass to fill it. The registry's binary functions, each
    // with a rule of its own, still have the cotangent spread for them.
    if uniform && wrt.0 && wrt.1 && op == .binaryElementary { return nil }
    var dw: Tensor? = nil
    /// The second operand's cotangent from a uniform one, by `body(g, a, b, y)`, into a buffer
    /// of its own, leaving the output's for the first operand's.
    @inline(__always)
    func second(
      _ a: Tensor, _ b: Tensor, _ body: (Double, Double, Double, Double) -> Double
    ) -> Tensor {
      // Copies share the buffers, which are then not unique: pulling makes a new one.
      var (shared, kept) = (cotangent, y)
      return .pulling(&shared, a, b, output: &kept, body)
    }
    switch op {
    case .add where uniform:
      // Both operands receive ȳ itself, and a rank-0 one stays so.
      let g = cotangent.take()
      return (wrt.0 ? g : nil, wrt.1 ? g : nil)
    case .binaryElementary:
      return Elementary.binary[Int(function)].fusedPullback(
        &cotangent, a: x, b: w, y: &y, wrt: wrt)
    case .multiply:
      // ā = ȳ ⊙ b, b̄ = ȳ ⊙ a.
      if wrt.1 {
        dw =
          !wrt.0
          ? .pulling(&cotangent, x, x, output: &y) { g, a, _, _ in g * a }
          : uniform
            ? second(x, x) { g, a, _, _ in g * a } : .zipping(cotangent!, x, x) { g, a, _ in g * a }
      }
      return (
        wrt.0 ? .pulling(&cotangent, w, w, output: &y) { g, b, _, _ in g * b } : nil, dw
      )
    case .divide:
      // ā = ȳ ⊘ b, b̄ = −((ȳ ⊙ y) ⊘ b), in Divide's order, by the vectorized kernels.
      if wrt.1 {
        if wrt.0 {
          // The cotangent and the output stay for ā: b̄ gets a buffer of its own.
          var (shared, kept) = (cotangent, y)
          dw = .pulling(
            &shared, w, output: &kept, rule: bp_rule_divisor_pullback, readsOutput: true)
        } else {
          dw = .pulling(
            &cotangent, w, output: &y, rule: bp_rule_divisor_pullback, readsOutput: true)
        }
      }
      return (
        wrt.0 ? .pulling(&cotangent, w, output: &y, rule: bp_rule_dividend_pullback) : nil, dw
      )
    case .subtract:
      // ā = ȳ itself (a rank-0 one stays so), b̄ = −ȳ.
      if wrt.1 {
        if uniform, let g = cotangent?.scalar {
          dw = Tensor(-g)  // −ȳ at every position, rank 0 as ȳ is
        } else {
          dw =
            wrt.0
            ? .zipping(cotangent!, x, x) { g, _, _ in -g }
            : .pulling(&cotangent, x, x, output: &y) { g, _, _, _ in -g }
        }
      }
      return (wrt.0 ? cotangent.take() : nil, dw)
    case .maximum:
      // ā = ȳ ⊙ share(a, b), b̄ = ȳ ⊙ share(b, a): ½ each at a tie; by the vectorized kernel,
      // which restates Maximum.Share with compares and selects (KernelTests).
      if wrt.1 {
        if wrt.0 {
          // The cotangent and the output stay for ā: b̄ gets a buffer of its own.
          var (shared, kept) = (cotangent, y)
          dw = Maximum.fusedPullback(&shared, w, x, output: &kept)
        } else {
          dw = Maximum.fusedPullback(&cotangent, w, x, output: &y)
        }
      }
      return (wrt.0 ? Maximum.fusedPullback(&cotangent, x, w, output: &y) : nil, dw)
    case .select:
      // The mask is w; it receives no cotangent.
      return (
        .pulling(&cotangent, w, w, output: &y) { g, mask, _, _ in Select.scalar(g, mask) }, nil
      )
    default: return nil
    }
  }

  /// The rules of the operations beyond the core primitives: the shape ops and the elementary
  /// functions, dispatched through the registry. Kept out of ``vjp(_:_:x:w:y:wrt:function:)``,
  /// which is inlined into the sweep: a larger switch there cost a scalar chain 10% (the
  /// optimizer stopped inlining the core rules).
  @inline(never)
  static func libraryVJP<U: TensorAlgebra>(
    _ op: Op, _ cotangent: U, x: () -> U, w: () -> U, y: () -> U, wrt: (Bool, Bool),
    function: UInt8
  ) -> (U?, U?) {
    switch op {
    case .slice: return (cotangent.padded(w().value), nil)
    case .pad: return (cotangent.sliced(w().value), nil)
    case .gather: return (cotangent.scatteredAdding(w().value), nil)
    case .scatterAdd: return (cotangent.gathered(w().value), nil)
    case .prod: return (Product.pullback(cotangent, x: x(), y: y()), nil)
    case .concatenate:
      return Concatenation.pullback(cotangent, a: x(), b: w(), axis: Int(function), wrt: wrt)
    case .elementary:
      return (Elementary.unary[Int(function)].pullback(cotangent, x: x(), y: y()), nil)
    case .binaryElementary:
      return Elementary.binary[Int(function)].pullback(
        cotangent, a: x(), b: w(), y: y(), wrt: wrt)
    default: fail("\(op.name): not a library operation")
    }
  }
}
