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
}
