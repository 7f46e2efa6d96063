import BackpropKernels
import Foundation
import Testing

@testable import Backprop

/// The vectorized exponential against the exact value over the whole range of Double: within
/// 1 ulp of eˣ wherever eˣ is finite, subnormal results included, with the IEEE special cases.
/// Both builds of the kernel are checked: the one this machine runs (AVX2 and FMA where it has
/// them) and the portable one that runs elsewhere.
///
/// The exact value comes from `expl` in 80-bit extended precision (11 more bits than Double),
/// where the platform has it; elsewhere Foundation's `exp` is the reference, which is within a
/// few tenths of an ulp itself, so agreement to 1 ulp still bounds the kernel's error.
@Suite("Vectorized exponential: within 1 ulp over the whole range")
struct ExponentialTests {
  /// The portable build of the kernel, for one scalar.
  static func portable(_ x: Double) -> Double {
    var (input, output) = (x, 0.0)
    _ = kernel(\.exponentials, width: 0)(&input, 0, &output, 1)
    return output
  }

  static let kernels: [(name: String, function: @Sendable (Double) -> Double)] = [
    (bp_kernel_width() >= 256 ? "AVX2 and FMA" : "dispatched", { exponential($0) }),
    ("portable", { portable($0) }),
  ]

  /// The kernel's error at `x` in units in the last place of the exact result, or `nil` when
  /// eˣ overflows (the kernel must then give +∞, checked by the caller).
  static func ulpError(at x: Double, of kernel: (Double) -> Double) -> Double? {
    let ours = kernel(x)
    #if arch(x86_64) && !os(Windows) && !os(Android)
      let exact = Foundation.exp(Float80(x))
      if Double(exact).isInfinite { return nil }
      // The spacing of doubles at the exact value; at most the subnormal spacing 2⁻¹⁰⁷⁴.
      let exponent = Swift.max(Int(exact.exponent), -1022)
      let ulp = Float80(sign: .plus, exponent: exponent - 52, significand: 1)
      return Double(abs(Float80(ours) - exact) / ulp)
    #else
      let reference = Foundation.exp(x)
      if reference.isInfinite { return nil }
      let ulp = reference == 0 ? Double.leastNonzeroMagnitude : reference.ulp
      return abs(ours - reference) / ulp
    #endif
  }

  /// Checks every input with each build of the kernel, reporting the worst error.
  static func expectWithinOneUlp(
    _ inputs: [Double], sourceLocation: SourceLocation = #_sourceLocation
  ) {
    for (name, kernel) in kernels {
      var worst = (error: 0.0, x: 0.0)
      for x in inputs {
        guard let error = ulpError(at: x, of: kernel) else {
          #expect(kernel(x) == .infinity, "\(name): e^\(x) overflows, got \(kernel(x))")
          continue
        }
        if error > worst.error { worst = (error, x) }
      }
      #expect(
        worst.error <= 1, "\(name): worst error \(worst.error) ulp at x = \(worst.x)",
        sourceLocation: sourceLocation)
    }
  }

  @Test func uniformOverTheWholeFiniteRange() {
    var generator = SeededGenerator(seed: 11)
    Self.expectWithinOneUlp((0..<200_000).map { _ in .random(in: -746...710, using: &generator) })
  }

  @Test func nearZeroWhereEToTheXIsNearOne() {
    var generator = SeededGenerator(seed: 12)
    let small = (0..<50_000).map { _ in Double.random(in: -1...1, using: &generator) }
    let tiny = (-1074...(-1)).flatMap { exponent -> [Double] in
      let x = Double(sign: .plus, exponent: exponent, significand: 1.3)
      return [x, -x]
    }
    Self.expectWithinOneUlp(small + tiny + [0, -0.0])
    #expect(exponential(0) == 1 && exponential(-0.0) == 1)
  }

  @Test func subnormalResultsAndUnderflow() {
    var generator = SeededGenerator(seed: 13)
    // e^x is subnormal for x below about −708.40 and rounds to 0 below about −745.13.
    let subnormal = (0..<50_000).map { _ in Double.random(in: -745.2...(-708.3), using: &generator)
    }
    Self.expectWithinOneUlp(subnormal + [-Double.greatestFiniteMagnitude])
  }

  @Test func overflowBoundary() {
    // The largest x with a finite e^x is 709.782712893383973096…
    let boundary = 709.782712893384
    var inputs: [Double] = []
    var x = boundary
    for _ in 0..<200 {
      inputs.append(x)
      x = x.nextDown
    }
    x = boundary
    for _ in 0..<200 {
      x = x.nextUp
      inputs.append(x)
    }
    Self.expectWithinOneUlp(inputs + [Double.greatestFiniteMagnitude])
  }

  @Test func multiplesOfLnTwoWhereTheReductionSwitchesK() {
    // The reduction x = k ln 2 + r changes k halfway between multiples of ln 2; r is largest
    // there, and the polynomial's error is largest.
    var inputs: [Double] = []
    for k in -1075...1024 {
      let center = (Double(k) + 0.5) * M_LN2
      var below = center
      var above = center
      for _ in 0..<4 {
        inputs += [below, above]
        below = below.nextDown
        above = above.nextUp
      }
      inputs.append(Double(k) * M_LN2)
    }
    Self.expectWithinOneUlp(inputs.filter { $0 <= 709.78 })
  }

  @Test func specialValues() {
    for (name, kernel) in Self.kernels {
      #expect(kernel(.infinity) == .infinity, "\(name)")
      #expect(kernel(-.infinity) == 0, "\(name)")
      #expect(kernel(.nan).isNaN, "\(name)")
      #expect(kernel(-.nan).isNaN, "\(name)")
      #expect(kernel(.signalingNaN).isNaN, "\(name)")
      #expect(abs(kernel(1) - M_E) <= M_E.ulp, "\(name)")
      #expect(kernel(-745.2) == 0 && kernel(-1e300) == 0, "\(name)")
      #expect(kernel(-745.1) == Double.leastNonzeroMagnitude, "\(name)")
      #expect(kernel(709.79) == .infinity && kernel(1e300) == .infinity, "\(name)")
    }
  }

  @Test func agreesWithFoundationToOneUlp() {
    // Both are within 1 ulp of the exact value, so each is one of the two doubles around it.
    var generator = SeededGenerator(seed: 14)
    for _ in 0..<100_000 {
      let x = Double.random(in: -745...709, using: &generator)
      let (ours, theirs) = (exponential(x), Foundation.exp(x))
      let ulp = Swift.max(Swift.min(ours, theirs).ulp, Double.leastNonzeroMagnitude)
      #expect(abs(ours - theirs) <= ulp, "x = \(x): \(ours) vs Foundation's \(theirs)")
    }
  }

  /// Every length from 0 to 13 covers the four-lane body and each tail length.
  @Test(arguments: 0...13)
  func bufferKernelMatchesTheScalarKernel(count: Int) {
    var generator = SeededGenerator(seed: UInt64(count))
    var source = (0..<count).map { _ in Double.random(in: -30...30, using: &generator) }
    if count > 2 { source[1] = -.infinity }
    let shift = 2.5
    var out = [Double](repeating: .nan, count: count + 1)
    let total = source.withUnsafeBufferPointer { source in
      out.withUnsafeMutableBufferPointer { exponentials(of: source, minus: shift, into: $0) }
    }
    var expected = 0.0
    for index in 0..<count {
      let e = exponential(source[index] - shift)
      #expect(out[index] == e, "position \(index)")
      expected += e
    }
    #expect(out[count].isNaN, "the scalar past the end was written")
    #expect(abs(total - expected) <= 4 * Swift.max(expected, 1).ulp)
  }

  /// The scalar entry (`bp_exponential`, two lanes) gives the bits the dispatched vector loop
  /// gives, over every binade of both signs, the range where eˣ is finite and nonzero, and the
  /// special values; and so does `bp_logarithm` on its domain's edges.
  @Test func theScalarEntriesGiveTheVectorLoopsBits() {
    var generator = SeededGenerator(seed: 29)
    let inputs =
      everyBinade(3, using: &generator)
      + (0..<20_000).map { _ in Double.random(in: -746...710, using: &generator) }
      + [0, -0.0, .infinity, -.infinity, .nan, 709.782712893384, -745.1332191019412, -708.4]
    let vector = runKernel(
      { width, source, destination, count in
        _ = kernel(\.exponentials, width: width)(source, 0, destination, count)
      }, width: Int(bp_kernel_width()), on: inputs)
    let wrong = zip(inputs, vector).filter { x, y in
      let s = bp_exponential(x)
      return s.bitPattern != y.bitPattern && !(s.isNaN && y.isNaN)
    }
    #expect(wrong.isEmpty, "\(wrong.count) differ, the first at x = \(wrong.first?.0 ?? 0)")
    let positive = inputs.map(Swift.abs) + [.leastNonzeroMagnitude, .leastNormalMagnitude, 1]
    let logs = runKernel(atWidth(\.logarithms), width: Int(bp_kernel_width()), on: positive)
    #expect(
      zip(positive, logs).allSatisfy { bp_logarithm($0).bitPattern == $1.bitPattern || $1.isNaN })
  }

  @Test func expPrimitiveAndSoftmaxUseTheKernel() {
    var generator = SeededGenerator(seed: 15)
    let x = Tensor.random([3, 7], scale: 20, using: &generator)
    let y = exp(x)
    for (value, input) in zip(y.scalars, x.scalars) { #expect(value == exponential(input)) }
    #expect(exp(Tensor(0.7)).scalar == exponential(0.7))
    // Softmax of the same row by the definition, with Foundation's exp: rounding apart, equal.
    let s = softmax(x)
    let scalars = x.scalars
    for row in 0..<3 {
      let values = scalars[(row * 7)..<(row * 7 + 7)]
      let m = values.max()!
      let total = values.reduce(0) { $0 + Foundation.exp($1 - m) }
      for (column, value) in values.enumerated() {
        #expect(abs(s.scalars[row * 7 + column] - Foundation.exp(value - m) / total) <= 4e-16)
      }
    }
  }

  /// The vectorized widths the machine runs (AVX-512's eight lanes, AVX2's four; both contract
  /// to fused multiply-adds) give the same bits on buffers of every length, remainders included,
  /// and the same sum: the whole range, the edges, NaN and infinities, in a random order. (The
  /// baseline build, without FMA, rounds differently; it is held to 1 ulp above.)
  @Test(arguments: [0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 1_000, 10_003])
  func everyWidthGivesTheSameBits(count: Int) {
    var generator = SeededGenerator(seed: UInt64(count) + 40)
    let edges: [Double] = [
      0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 1e-300, -709.9, 709.78, 709.79,
      -745.1, -745.2, -708.4, 1e300,
      -1e300, .infinity, -.infinity, .nan, 1, -1, 0.5,
    ]
    let source = (0..<count).map { index in
      index < edges.count && count >= 31
        ? edges[index] : Double.random(in: -800...800, using: &generator)
    }.shuffled(using: &generator)
    let widths = [256, 512].filter { $0 <= Int(bp_kernel_width()) }
    guard !widths.isEmpty else { return }
    var results: [(width: Int, out: [Double], total: Double)] = []
    for width in widths {
      var out = [Double](repeating: 42, count: count)
      let total = source.withUnsafeBufferPointer { source in
        out.withUnsafeMutableBufferPointer { out in
          kernel(\.exponentials, width: Int32(width))(
            source.baseAddress, 0.25, out.baseAddress, count)
        }
      }
      results.append((width, out, total))
    }
    let reference = results[0]
    for (index, x) in source.enumerated() {
      let e = exponential(x - 0.25)
      #expect(reference.out[index].bitPattern == e.bitPattern || e.isNaN, "x = \(x)")
    }
    for result in results.dropFirst() {
      #expect(
        zip(result.out, reference.out).allSatisfy {
          $0.bitPattern == $1.bitPattern || $0.isNaN && $1.isNaN
        }, "width \(result.width)")
      #expect(
        result.total.bitPattern == reference.total.bitPattern
          || result.total.isNaN && reference.total.isNaN, "width \(result.width)")
    }
  }

  /// The row maximum that every softmax starts from: the plain loop's answer in every width,
  /// for every length through three vectors and a tail, with the largest in every position,
  /// NaN anywhere giving NaN, and −∞ for an empty row or a row of −∞; a null destination sums
  /// the exponentials without storing them.
  @Test func rowMaximumAndTheSumWithoutStoring() {
    var generator = SeededGenerator(seed: 17)
    for width in kernelWidths {
      for count in 0...27 {
        let xs = (0..<count).map { _ in Double.random(in: -5...5, using: &generator) }
        let plain = xs.max() ?? -.infinity
        #expect(
          kernel(\.maximum, width: Int32(width))(xs, count) == plain, "width \(width), \(count)")
        for position in xs.indices {
          var spiked = xs
          spiked[position] = 1e300
          #expect(kernel(\.maximum, width: Int32(width))(spiked, count) == 1e300)
          spiked[position] = .nan
          #expect(kernel(\.maximum, width: Int32(width))(spiked, count).isNaN, "NaN at \(position)")
        }
      }
      let lows = [Double](repeating: -.infinity, count: 19)
      #expect(kernel(\.maximum, width: Int32(width))(lows, 19) == -.infinity)
    }
    let xs = (0..<1001).map { _ in Double.random(in: -700...700, using: &generator) }
    var out = [Double](repeating: 0, count: xs.count)
    let stored = bp_exponentials(xs, 3, &out, xs.count)
    #expect(bp_exponentials(xs, 3, nil, xs.count).bitPattern == stored.bitPattern)
  }

  /// Log-sum-exp's pullback, scale · e^(x − shift): in every width and every length through
  /// three vectors and a tail, the bits of the stored exponential times the scale, rounded once,
  /// with scales that overflow, underflow, are zero, ∞ or NaN against exponentials that are 0,
  /// subnormal, ∞ or NaN.
  @Test func scaledExponentialsAreTheExponentialTimesTheScale() {
    var generator = SeededGenerator(seed: 18)
    let edges: [Double] = [0, -0.0, -745.2, -740, 709.79, 700, .infinity, -.infinity, .nan, 1e300]
    for width in kernelWidths {
      for count in [0, 1, 3, 4, 5, 8, 9, 17, 27, 1001] {
        let xs = (0..<count).map { index in
          index < edges.count && count >= 17
            ? edges[index] : Double.random(in: -50...50, using: &generator)
        }
        var exponentials = [Double](repeating: 0, count: count)
        _ = kernel(\.exponentials, width: Int32(width))(xs, 0.5, &exponentials, count)
        for scale in [1, 0.3, -2.5, 1e300, 1e-300, 0, .infinity, .nan] {
          var out = [Double](repeating: 42, count: count)
          kernel(\.scaled_exponentials, width: Int32(width))(xs, 0.5, scale, &out, count)
          #expect(
            zip(out, exponentials).allSatisfy { got, e in
              let expected = e * scale
              return got.bitPattern == expected.bitPattern || got.isNaN && expected.isNaN
            }, "width \(width), count \(count), scale \(scale)")
        }
      }
    }
  }
}

/// The vectorized 2ˣ against 80-bit `exp2l`: within 1 ulp in every width from where it underflows
/// to where it overflows, where k = round(x) changes, and near 0; exact at integers; the special
/// values; a scalar with the vector loop's bits.
@Suite("Vectorized exp2: within 1 ulp over the whole range")
struct BinaryExponentialTests {
  @Test func withinOneUlpEverywhere() {
    var generator = SeededGenerator(seed: 91)
    let uniform = (0..<200_000).map { _ in Double.random(in: -1080...1030, using: &generator) }
    let small = (0..<50_000).map { _ in Double.random(in: -2...2, using: &generator) }
    let binades = everyBinade(20, using: &generator)
    var edges: [Double] = []
    for center in stride(from: -1075.5, through: 1024.5, by: 37.0) + [-0.5, 0.5, 1023.5, -1074.5] {
      var (below, above) = (center, center)
      for _ in 0..<8 {
        edges += [below, above]
        (below, above) = (below.nextDown, above.nextUp)
      }
    }
    let worst = expectKernelWithinOneUlp(
      "exp2", atWidth(\.binary_exponentials), exact: { Foundation.exp2($0) },
      on: uniform + small + binades + edges + [1024, 1023.9999999999999, -1074, -1075, -1076])
    print("exp2 kernel: worst \(worst) ulp")
  }

  @Test func exactAtIntegersAndSpecialValues() {
    for width in kernelWidths {
      let integers = (-1074...1023).map(Double.init)
      let powers = runKernel(atWidth(\.binary_exponentials), width: width, on: integers)
      #expect(
        zip(integers, powers).allSatisfy {
          $1 == Double(sign: .plus, exponent: Int($0), significand: 1)
        }, "width \(width)")
      let specials = runKernel(
        atWidth(\.binary_exponentials), width: width,
        on: [0, -0.0, .infinity, -.infinity, .nan, 1024, -1075, 1e300, -1e300])
      #expect(specials[0] == 1 && specials[1] == 1 && specials[2] == .infinity, "width \(width)")
      #expect(specials[3] == 0 && specials[4].isNaN && specials[5] == .infinity, "width \(width)")
      #expect(specials[6] == 0 && specials[7] == .infinity && specials[8] == 0, "width \(width)")
      expectEveryRemainder(
        atWidth(\.binary_exponentials), width: width, scalar: bp_binary_exponential)
    }
  }
}
