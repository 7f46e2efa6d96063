internal import BackpropKernels

// Which rule is each entry's VJP: the generic dispatch that every sweep runs (on tensors, on
// recorded variables, on a rank-0 entry's Doubles), and the one-pass rules on tensors that the
// optimized sweep tries first. The rules themselves live beside their primitives.

extension Tape {
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
