import Testing

@testable import Backprop

/// Each fast kernel against the rule it speeds up: the rule is the definition (and what runs
/// when the backward pass is itself recorded), the kernel the same arithmetic in fewer passes.
@Suite("Fast kernels agree with their rules")
struct KernelTests {
  @Test(arguments: [[1, 1], [1, 7], [4, 3], [3, 100]])
  func softmaxPullback(shape: [Int]) {
    var generator = SeededGenerator(seed: UInt64(shape.reduce(1, *)))
    let y = softmax(Tensor.random(shape, scale: 5, using: &generator))
    let g = Tensor.random(shape, using: &generator)
    // Not to the bit: the kernel rewrites a dominant entry (yₖ > ½) to avoid the rule's
    // cancellation, which moves rounding by an ulp or two of |ȳ|.
    expectClose(Softmax.kernel(g, y: y), Softmax.rule(g, y: y), tolerance: 4e-16)
  }

  /// Where no entry dominates (every yᵢ ≤ ½), the kernel is the rule to the bit: it sums
  /// ȳ ⊙ y in Sum's order, as the rule's sum along the rows does.
  @Test(arguments: [[3, 100], [2, 37], [1, 1000], [5, 16], [4, 17]])
  func softmaxPullbackIsTheRuleWithoutADominantEntry(shape: [Int]) {
    var generator = SeededGenerator(seed: UInt64(shape.reduce(1, *)) + 1)
    let y = softmax(Tensor.random(shape, scale: 0.5, using: &generator))
    #expect(y.scalars.allSatisfy { $0 <= 0.5 })
    let g = Tensor.random(shape, scale: 3, using: &generator)
    let (kernel, rule) = (Softmax.kernel(g, y: y), Softmax.rule(g, y: y))
    #expect(zip(kernel.scalars, rule.scalars).allSatisfy { $0.bitPattern == $1.bitPattern })
  }

  @Test(arguments: [[1, 1], [1, 7], [4, 3], [3, 100]])
  func crossEntropyPullback(shape: [Int]) {
    var generator = SeededGenerator(seed: UInt64(shape.reduce(1, *)))
    let logits = Tensor.random(shape, scale: 5, using: &generator)
    let labels = Tensor(
      (0..<shape[0]).map { _ in Double(Int.random(in: 0..<shape[1], using: &generator)) })
    var (_, gradient) = CrossEntropy.forward(logits, labels)
    let seed = Tensor(1.7)
    CrossEntropy.kernel(seed, labels: labels, overwriting: &gradient)
    expectClose(
      gradient, CrossEntropy.rule(seed, logits: logits, labels: labels), tolerance: 2.5e-16)
  }

  /// The sweep runs a rank-0 elementwise entry's rule on `Double`s; a one-element tensor takes
  /// the tensor path. Every elementwise primitive, ties and masks included, must give the same
  /// bits both ways.
  @Test(arguments: [0.3, 1.7, -0.4])
  func scalarPathMatchesTheTensorPath(at start: Double) {
    func f(_ x: Variable, _ c: Variable) -> Variable {
      let a = exp(x) * c - x / (c + 2) + sqrt(x * x + 1) - pow(x, 3) + (-x)
      let b = max(tanh(a), x) + max(x, x) + log(c * c + x * x) + a.masked(by: c.value)
      return b * b + 0.5 * b
    }
    let scalar = Tape()
    let (x0, c0) = (scalar.variable(Tensor(start)), Variable(Tensor(1.3)))
    let y0 = f(x0, c0)
    let vector = Tape()
    let (x1, c1) = (vector.variable(Tensor([start])), Variable(Tensor([1.3])))
    let y1 = f(x1, c1).sum()
    #expect(y0.value.scalar == y1.value.scalars[0])
    #expect(scalar.gradient(of: y0, wrt: x0).scalar == vector.gradient(of: y1, wrt: x1).scalars[0])
  }

  /// Both matrix-product loops (row updates, and dot products for a narrow result) against the
  /// definition, summed in index order: they differ only in rounding.
  @Test(arguments: [[3, 5, 7], [1, 8, 1], [17, 64, 10], [9, 13, 31], [4, 40, 32], [2, 7, 3]])
  func matrixProduct(dimensions: [Int]) {
    let (m, k, n) = (dimensions[0], dimensions[1], dimensions[2])
    var generator = SeededGenerator(seed: UInt64(m * k * n))
    let a = Tensor.random([m, k], using: &generator)
    let b = Tensor.random([k, n], using: &generator)
    var reference = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
      for j in 0..<n {
        for p in 0..<k { reference[i * n + j] += a[i, p] * b[p, j] }
      }
    }
    expectClose(matmul(a, b), Tensor(shape: [m, n], scalars: reference), tolerance: 1e-14)
  }

  @Test func fusedCrossEntropyMatchesItsComposedTwin() {
    var generator = SeededGenerator(seed: 77)
    let logits = Tensor.random([5, 4], scale: 3, using: &generator)
    let labels = [3, 0, 1, 1, 2]
    let fused = valueWithGradient(at: logits) { crossEntropy(logits: $0, labels: labels) }
    let composed = valueWithGradient(at: logits) {
      composedCrossEntropy(logits: $0, labels: labels)
    }
    expectClose(fused.value, composed.value, tolerance: 1e-15)
    expectClose(fused.gradient, composed.gradient, tolerance: 1e-16)
    let h = hessian(at: logits.reshaped(to: [20])) {
      crossEntropy(logits: $0.reshaped(to: [5, 4]), labels: labels)
    }
    let twin = hessian(at: logits.reshaped(to: [20])) {
      composedCrossEntropy(logits: $0.reshaped(to: [5, 4]), labels: labels)
    }
    expectClose(h, twin, tolerance: 1e-15)
  }
}

/// Reductions and broadcasts against a plain reference written here, by explicit multi-index
/// iteration: every fast path (trailing axes, leading axes, a single scalar) and the general
/// strided walk must give the same numbers.
@Suite("Reduction and broadcast kernels agree with a plain reference")
struct ShapeKernelTests {
  /// The multi-indices of a shape in row-major order.
  static func indices(_ shape: [Int]) -> [[Int]] {
    shape.reduce([[]]) { partial, axis in
      partial.flatMap { prefix in (0..<axis).map { prefix + [$0] } }
    }
  }

  static func offset(_ index: [Int], _ shape: [Int]) -> Int {
    zip(index, shape).reduce(0) { $0 * $1.1 + $1.0 }
  }

  static let shapes: [[Int]] = [[5], [2, 3], [3, 1, 4], [2, 3, 2, 2], [3, 70], [2, 2, 33]]

  @Test(arguments: shapes)
  func reductionsOverEveryAxisSubset(shape: [Int]) {
    var generator = SeededGenerator(seed: UInt64(shape.count))
    let x = Tensor.random(shape, using: &generator)
    let subsets = (1..<(1 << shape.count)).map { mask in
      shape.indices.filter { mask & (1 << $0) != 0 }
    }
    for axes in subsets {
      var reduced = shape
      for axis in axes { reduced[axis] = 1 }
      var sums = [Double](repeating: 0, count: reduced.reduce(1, *))
      var maxima = [Double](repeating: -.infinity, count: sums.count)
      for index in Self.indices(shape) {
        var target = index
        for axis in axes { target[axis] = 0 }
        let o = Self.offset(target, reduced)
        sums[o] += x[index]
        maxima[o] = Swift.max(maxima[o], x[index])
      }
      // Sums in another order differ by rounding, within the bound n ε Σ|xᵢ| of any order.
      let magnitude = x.scalars.reduce(0) { $0 + abs($1) }
      expectClose(
        x.sum(alongAxes: axes), Tensor(shape: reduced, scalars: sums),
        tolerance: Double(x.scalarCount) * Double.ulpOfOne * magnitude, "sum \(axes)")
      #expect(x.max(alongAxes: axes) == Tensor(shape: reduced, scalars: maxima), "max \(axes)")
      if axes == Array(0..<axes.count) && axes.count < shape.count {
        // Leading axes fold row by row, each result in the reference's order: the same bits.
        #expect(x.sum(alongAxes: axes).scalars == sums, "sum \(axes), bit for bit")
      }
      if axes == Array((shape.count - axes.count)..<shape.count) {
        // Trailing axes: each contiguous run is summed as sum() sums a whole tensor.
        let run = axes.reduce(1) { $0 * shape[$1] }
        let rows = (0..<(x.scalarCount / run)).map { row in
          Tensor(Array(x.scalars[(row * run)..<((row + 1) * run)])).sum().scalar!
        }
        #expect(x.sum(alongAxes: axes).scalars == rows, "sum \(axes), bit for bit")
      }
    }
  }

  @Test(arguments: shapes)
  func broadcastsOfEveryPattern(shape: [Int]) {
    var generator = SeededGenerator(seed: UInt64(10 + shape.count))
    let target = [2] + shape
    // Every way of collapsing some axes to 1, each broadcast back to the target.
    for mask in 0..<(1 << shape.count) {
      let small = shape.indices.map { mask & (1 << $0) != 0 ? 1 : shape[$0] }
      let x = Tensor.random(small, using: &generator)
      var expected: [Double] = []
      for index in Self.indices(target) {
        let source = zip(index.dropFirst(), small).map { $1 == 1 ? 0 : $0 }
        expected.append(x[source])
      }
      #expect(x.broadcasted(to: target) == Tensor(shape: target, scalars: expected), "\(small)")
      // The same pattern through an elementwise op, on either side.
      let y = Tensor.random(target, using: &generator)
      let sum = zip(expected, y.scalars).map(+)
      #expect(x + y == Tensor(shape: target, scalars: sum), "\(small) + \(target)")
      #expect(y + x == Tensor(shape: target, scalars: sum), "\(target) + \(small)")
      // Both broadcast: the complementary pattern, so that each axis is full in one operand
      // (both rows broadcast when the last axis is collapsed in both, as with [3, 1] · [1, 1]).
      for complement in [shape.indices.map { mask & (1 << $0) == 0 ? 1 : shape[$0] }, [1]] {
        let z = Tensor.random(complement, using: &generator)
        let result = Shape.broadcast(small, complement, op: "test")
        var products: [Double] = []
        for index in Self.indices(result) {
          let left = zip(index.suffix(small.count), small).map { $1 == 1 ? 0 : $0 }
          let right = zip(index.suffix(complement.count), complement).map { $1 == 1 ? 0 : $0 }
          products.append(x[left] * z[right])
        }
        #expect(x * z == Tensor(shape: result, scalars: products), "\(small) · \(complement)")
      }
    }
  }

  /// The one-pass VJPs of the elementwise primitives give the numbers of the generic rule
  /// evaluated a tensor operation at a time, to the bit, at ordinary points and at the edges
  /// (zeros, subnormals, huge, infinite and NaN inputs and cotangents), for every combination of
  /// operands wanting a cotangent; both when the cotangent is shared (a new buffer, the other
  /// holder's copy unchanged) and when it is held once and large (written in place).
  @Test(arguments: [false, true])
  func fusedPullbacksAreTheRuleToTheBit(large: Bool) {
    var generator = SeededGenerator(seed: 31)
    let edges: [Double] = [
      0, -0.0, .leastNonzeroMagnitude, -0x1p-1030, 1e-8, 0.5, -0.75, 1, -1, 3, 20, -40, 710, -745,
      1e17, 1e300,
      -1e300, .infinity, -.infinity, .nan,
    ]
    let count = large ? LargeBuffer.threshold + 5 : 80
    func values(_ scale: ClosedRange<Double>) -> Tensor {
      Tensor(
        (edges + Tensor.random([count - edges.count], in: scale, using: &generator).scalars)
          .shuffled(using: &generator))
    }
    let (a, b) = (values(-4...4), values(-4...4))
    let mask = values(-1...1).map { $0 > 0.3 ? 1 : $0 < -0.3 ? 0 : $0 }
    let seed = values(-2...2)
    func same(_ p: Tensor?, _ q: Tensor?) -> Bool {
      guard let p, let q else { return p == nil && q == nil }
      return p.shape == q.shape
        && zip(p.scalars, q.scalars).allSatisfy {
          $0.bitPattern == $1.bitPattern || $0.isNaN && $1.isNaN
        }
    }
    var cases: [(Op, UInt8, Tensor, Tensor?, Tensor)] = [
      (.exp, 0, a, nil, exp(a)), (.log, 0, a, nil, log(a)), (.sqrt, 0, a, nil, sqrt(a)),
      (.negate, 0, a, nil, -a), (.tanh, 0, a, nil, tanh(a)), (.sigmoid, 0, a, nil, sigmoid(a)),
      (.multiply, 0, a, b, a * b), (.divide, 0, a, b, a / b), (.subtract, 0, a, b, a - b),
      (.maximum, 0, a, b, max(a, b)), (.maximum, 0, a, a, a), (.select, 0, a, mask, a),
    ]
    for index in Elementary.unary.indices where !large || index % 7 == 0 {
      cases.append((.elementary, UInt8(index), a, nil, Elementary.unary[index].forward(a)))
    }
    for index in Elementary.binary.indices {
      cases.append((.binaryElementary, UInt8(index), a, b, Elementary.binary[index].forward(a, b)))
    }
    for (op, function, x, w, y) in cases {
      let name =
        op == .elementary
        ? Elementary.unary[Int(function)].name
        : op == .binaryElementary ? Elementary.binary[Int(function)].name : op.name
      let combinations =
        w == nil || op == .select ? [(true, false)] : [(true, true), (true, false), (false, true)]
      for wrt in combinations {
        let rule = Tape.vjp(
          op, seed, x: { x }, w: { w ?? x }, y: { y }, wrt: wrt, function: function)
        // Shared: the caller keeps `seed` and `y`, which must not change.
        var shared: Tensor? = seed
        var output = y
        let fromShared = Tape.fusedPullback(
          op, &shared, x: x, w: w, y: &output, wrt: wrt, function: function)
        #expect(fromShared != nil, "\(name)")
        #expect(same(fromShared?.0, rule.0) && same(fromShared?.1, rule.1), "\(name) \(wrt)")
        // Held once: a copy of the seed's scalars in a buffer of its own.
        var owned: Tensor? = seed.map { $0 }
        let fromOwned = Tape.fusedPullback(
          op, &owned, x: x, w: w, y: &output, wrt: wrt, function: function)
        #expect(same(fromOwned?.0, rule.0) && same(fromOwned?.1, rule.1), "\(name) \(wrt)")
        // A shared cotangent and an output held once, as a disposing sweep passes them: the
        // result may go over the output (each y[i] read before it is written).
        var ownedOutput = y.map { $0 }
        var again: Tensor? = seed
        let overOutput = Tape.fusedPullback(
          op, &again, x: x, w: w, y: &ownedOutput, wrt: wrt, function: function)
        #expect(same(overOutput?.0, rule.0) && same(overOutput?.1, rule.1), "\(name) \(wrt)")
        // A uniform cotangent: rank 0, standing for its value everywhere. One-result rules take
        // it as it is, into the output when held once; the others return nil untouched.
        let spreadRule = Tape.vjp(
          op, Tensor(repeating: -1.25, shape: x.shape), x: { x }, w: { w ?? x }, y: { y },
          wrt: wrt, function: function)
        for holdsOutput in [false, true] {
          var uniform: Tensor? = Tensor(-1.25)
          var uniformOutput = holdsOutput ? y.map { $0 } : y
          let fromUniform = Tape.fusedPullback(
            op, &uniform, x: x, w: w, y: &uniformOutput, wrt: wrt, function: function)
          if let fromUniform {
            // subtract and add pass ȳ on, still rank 0.
            let spread = { (t: Tensor?) in
              t.map { $0.shape.isEmpty ? Tensor(repeating: $0.scalar!, shape: x.shape) : $0 }
            }
            #expect(
              same(spread(fromUniform.0), spreadRule.0)
                && same(spread(fromUniform.1), spreadRule.1),
              "uniform: \(name) \(wrt)")
          } else {
            #expect(uniform == Tensor(-1.25) && wrt.0 && wrt.1, "\(name) \(wrt)")
          }
        }
      }
    }
    // Arithmetic with one rank-0 operand, either side, the tensor wanting the gradient: the
    // rule's bits shared, held once, over the output and from a uniform cotangent.
    for c in [2, 3, -0.0, 0, Double("1e-310")!, 1e300, .infinity, -.infinity, .nan] as [Double] {
      for op in [Op.add, .subtract, .multiply, .divide, .maximum] {
        for scalarFirst in [false, true] {
          let (x, w) = scalarFirst ? (Tensor(c), a) : (a, Tensor(c))
          let value: Tensor =
            switch op {
            case .add: x + w
            case .subtract: x - w
            case .multiply: x * w
            case .maximum: max(x, w)
            default: x / w
            }
          let wrt = scalarFirst ? (false, true) : (true, false)
          let name = "\(scalarFirst ? "\(c) \(op.name) x" : "x \(op.name) \(c)")"
          let rule = Tape.vjp(op, seed, x: { x }, w: { w }, y: { value }, wrt: wrt, function: 0)
          var shared: Tensor? = seed
          var output = value
          let fromShared = Tape.fusedPullback(
            op, &shared, x: x, w: w, y: &output, wrt: wrt, function: 0)
          #expect(same(fromShared?.0, rule.0) && same(fromShared?.1, rule.1), "\(name)")
          var ownedOutput = value.map { $0 }
          var owned: Tensor? = seed.map { $0 }
          let fromOwned = Tape.fusedPullback(
            op, &owned, x: x, w: w, y: &ownedOutput, wrt: wrt, function: 0)
          #expect(same(fromOwned?.0, rule.0) && same(fromOwned?.1, rule.1), "\(name), owned")
          let spreadRule = Tape.vjp(
            op, Tensor(repeating: -1.25, shape: a.shape), x: { x }, w: { w }, y: { value },
            wrt: wrt, function: 0)
          var uniform: Tensor? = Tensor(-1.25)
          var uniformOutput = value.map { $0 }
          let fromUniform = Tape.fusedPullback(
            op, &uniform, x: x, w: w, y: &uniformOutput, wrt: wrt, function: 0)
          let spread = { (t: Tensor?) in
            t.map { $0.shape.isEmpty ? Tensor(repeating: $0.scalar!, shape: a.shape) : $0 }
          }
          #expect(
            same(spread(fromUniform?.0), spreadRule.0)
              && same(spread(fromUniform?.1), spreadRule.1), "\(name), uniform")
        }
      }
    }
    // A constant exponent: p xᵖ⁻¹ with Pow's own xᵖ⁻¹, nothing for p = 0, ȳ for p = 1.
    for p in [0, 1, 2, 3, 4, 65, 2.5, 0.5, -1, -0.5, 1e-300, .infinity, .nan] as [Double] {
      let value = pow(a, p)
      for cotangent in [seed, Tensor(-1.25)] {
        let spreadSeed =
          cotangent.shape.isEmpty ? Tensor(repeating: -1.25, shape: a.shape) : cotangent
        let rule = Tape.vjp(
          .pow, spreadSeed, x: { a }, w: { Tensor(p) }, y: { value }, wrt: (true, false),
          function: 0)
        var given: Tensor? = cotangent
        var output = value.map { $0 }
        let fused = Tape.fusedPullback(
          .pow, &given, x: a, w: Tensor(p), y: &output, wrt: (true, false), function: 0)
        let spread = { (t: Tensor?) in
          t.map { $0.shape.isEmpty ? Tensor(repeating: $0.scalar!, shape: a.shape) : $0 }
        }
        #expect(fused != nil && same(spread(fused?.0), rule.0), "pow(x, \(p)), \(cotangent.shape)")
      }
    }
    // A constant row or column broadcast against a matrix, either side: + and − pass the
    // cotangent on (or negate it), × and ÷ take the generic rule; the rule's bits, also from a
    // uniform cotangent.
    let rows = count / 10
    let matrix = Tensor(shape: [rows, 10], scalars: Array(a.scalars.prefix(rows * 10)))
    let matrixSeed = Tensor(shape: [rows, 10], scalars: Array(seed.scalars.prefix(rows * 10)))
    for other in [
      Tensor(Array(edges.prefix(10))),
      Tensor(shape: [rows, 1], scalars: Array(b.scalars.prefix(rows))),
    ] {
      for op in [Op.add, .subtract, .multiply, .divide] {
        for otherFirst in [false, true] {
          let (x, w) = otherFirst ? (other, matrix) : (matrix, other)
          let value: Tensor =
            switch op {
            case .add: x + w
            case .subtract: x - w
            case .multiply: x * w
            default: x / w
            }
          let wrt = otherFirst ? (false, true) : (true, false)
          let name = "\(x.shape) \(op.name) \(w.shape)"
          for cotangent in [matrixSeed, Tensor(-1.25)] {
            let spreadSeed =
              cotangent.shape.isEmpty
              ? Tensor(repeating: -1.25, shape: matrix.shape) : cotangent
            let rule = Tape.vjp(
              op, spreadSeed, x: { x }, w: { w }, y: { value }, wrt: wrt, function: 0)
            var given: Tensor? = cotangent
            var output = value.map { $0 }
            guard
              let fused = Tape.fusedPullback(
                op, &given, x: x, w: w, y: &output, wrt: wrt, function: 0)
            else {
              #expect(op == .multiply || op == .divide, "\(name): no fused rule")
              #expect(given != nil, "\(name): the cotangent was taken")
              continue
            }
            let spread = { (t: Tensor?) in
              t.map { $0.shape.isEmpty ? Tensor(repeating: $0.scalar!, shape: matrix.shape) : $0 }
            }
            #expect(
              same(spread(fused.0), rule.0) && same(spread(fused.1), rule.1),
              "\(name), cotangent \(cotangent.shape)")
          }
        }
      }
    }
    #expect(same(seed, Tensor(seed.scalars)), "a shared cotangent was written over")
    // Broadcasting operands and rank 0 keep the generic rule.
    var other: Tensor? = seed
    var output = a
    #expect(
      Tape.fusedPullback(
        .multiply, &other, x: a, w: Tensor(2), y: &output, wrt: (true, true), function: 0)
        == nil)
    #expect(other != nil)
    var scalar: Tensor? = Tensor(1)
    var one = Tensor(1)
    #expect(
      Tape.fusedPullback(
        .tanh, &scalar, x: Tensor(1), w: nil, y: &one, wrt: (true, false), function: 0)
        == nil)
  }

  /// Log-softmax's two-pass VJP gives the generic rule's bits, row by row, for one row and for
  /// many, rows of every remainder length, edge values in the input and in the cotangent, a
  /// shared and an owned cotangent; a shared one is left as it was.
  @Test(arguments: [false, true])
  func logSoftmaxPullbackIsTheRuleToTheBit(large: Bool) {
    var generator = SeededGenerator(seed: 35)
    let total = large ? LargeBuffer.threshold + 9 : 90
    let shapes: [[Int]] = [[total], [total / 9, 9], [total / 3, 3], [total, 1], [2, total / 2]]
    for shape in shapes {
      let count = shape.reduce(1, *)
      for edges in [false, true] {
        var xs = Tensor.random([count], in: -30...30, using: &generator).scalars
        var gs = Tensor.random([count], in: -2...2, using: &generator).scalars
        if edges {
          for (index, value) in [1e300, -1e300, .infinity, -.infinity, .nan, 0, -0.0].enumerated() {
            xs[(index * 37) % count] = value
            gs[(index * 53 + 1) % count] = value
          }
        }
        let x = Tensor(xs).reshaped(to: shape)
        let seed = Tensor(gs).reshaped(to: shape)
        var y = logSoftmax(x)
        let rule = Tape.vjp(
          .logSoftmax, seed, x: { x }, w: { x }, y: { y }, wrt: (true, false), function: 0)
        for owned in [false, true] {
          var slot: Tensor? = owned ? seed.map { $0 } : seed
          let fused = Tape.fusedPullback(
            .logSoftmax, &slot, x: x, w: nil, y: &y, wrt: (true, false), function: 0)
          let same =
            fused?.0.map { ours in
              zip(ours.scalars, rule.0!.scalars).allSatisfy {
                $0.bitPattern == $1.bitPattern || $0.isNaN && $1.isNaN
              }
            } ?? false
          #expect(
            same && fused?.0?.shape == shape, "shape \(shape), edges \(edges), owned \(owned)")
        }
        #expect(seed.scalars.elementsEqual(gs) { $0.bitPattern == $1.bitPattern })
      }
    }
  }

  /// x ⊙ x and x + x whose operand's adjoint is still empty add their two contributions in one
  /// pass, giving the sum the sweep would form; with an adjoint already there, the sweep adds
  /// as before. Gradients of squares at both sizes are exact.
  @Test(arguments: [false, true])
  func joinedContributionsOfOneOperand(large: Bool) {
    var generator = SeededGenerator(seed: 33)
    let count = large ? LargeBuffer.threshold + 3 : 50
    let a = Tensor.random([count], in: -3...3, using: &generator)
    let seed = Tensor.random([count], in: -2...2, using: &generator)
    for (op, y) in [(Op.multiply, a * a), (Op.add, a + a)] {
      let rule = Tape.vjp(
        op, seed, x: { a }, w: { a }, y: { y }, wrt: (true, true), function: 0)
      var slot: Tensor? = seed.map { $0 }
      var output = y
      let joined = Tape.fusedPullback(
        op, &slot, x: a, w: a, y: &output, wrt: (true, true), function: 0, joined: true)
      #expect(joined?.1 == nil)
      #expect(joined?.0 == rule.0! + rule.1!, "\(op.name)")
    }
    #expect(gradient(at: a) { ($0 * $0).sum() } == a * 2)
    // x's adjoint already holds 1 when the product's VJP runs, so that one is not joined:
    // (1 + x) + x, equal to 2x + 1 up to the rounding of the order.
    #expect(
      gradient(at: a) { ($0 * $0 + $0).sum() }.isApproximatelyEqual(
        to: a * 2 + 1, absoluteTolerance: 1e-15))
    #expect(gradient(at: a) { ($0 + $0).sum() } == Tensor(repeating: 2, shape: [count]))
  }

  /// A binary elementary function with a constant scalar operand on either side (huberLoss's
  /// δ, a constant exponent or angle) takes the function's one-pass rule on the scalar filled
  /// to the tensor's shape: the general rule's bits, with edges in the tensor, a scalar that is
  /// an edge too, shared, owned and uniform cotangents.
  @Test(arguments: [false, true])
  func constantScalarOperandOfABinaryFunction(large: Bool) {
    var generator = SeededGenerator(seed: 37)
    let count = large ? LargeBuffer.threshold + 7 : 70
    var xs = Tensor.random([count], in: -4...4, using: &generator).scalars
    for (index, value) in [0, -0.0, 1, -1, 1e300, .infinity, -.infinity, .nan].enumerated() {
      xs[index * 5] = value
    }
    let x = Tensor(xs)
    let seed = Tensor.random([count], in: -2...2, using: &generator)
    let seedScalars = seed.scalars
    for index in Elementary.binary.indices {
      let function = Elementary.binary[index]
      for c in [1.0, 0.5, 2.5, -1.5, 0, .infinity, .nan] {
        for scalarFirst in [false, true] {
          let (a, b) = scalarFirst ? (Tensor(c), x) : (x, Tensor(c))
          let y = function.forward(a, b)
          let wrt = scalarFirst ? (false, true) : (true, false)
          for uniform in [false, true] {
            let cotangent = uniform ? Tensor(-1.25) : seed
            let spread = uniform ? Tensor(repeating: -1.25, shape: [count]) : seed
            let rule = Tape.vjp(
              .binaryElementary, spread, x: { a }, w: { b }, y: { y }, wrt: wrt,
              function: UInt8(index))
            for owned in [false, true] {
              var slot: Tensor? = owned ? cotangent.map { $0 } : cotangent
              var output = y
              let fused = Tape.fusedPullback(
                .binaryElementary, &slot, x: a, w: b, y: &output, wrt: wrt,
                function: UInt8(index))
              let (ours, theirs) = scalarFirst ? (fused?.1, rule.1) : (fused?.0, rule.0)
              let same =
                ours.map { ours in
                  ours.shape == [count]
                    && zip(ours.scalars, theirs!.scalars).allSatisfy {
                      $0.bitPattern == $1.bitPattern || $0.isNaN && $1.isNaN
                    }
                } ?? false
              #expect(
                same, "\(function.name), c = \(c), scalar first \(scalarFirst), uniform \(uniform)")
            }
          }
        }
      }
    }
    // A shared cotangent is left as it was.
    #expect(seed.scalars.elementsEqual(seedScalars) { $0.bitPattern == $1.bitPattern })
  }
}
