import BackpropKernels
import Foundation
import Testing

@testable import Backprop

/// The vectorized sigmoid and its one-pass pullback against 80-bit values: within 1.5 ulps over
/// the whole range in every build the machine runs, the left tail (σ(x) ≈ eˣ) and the right
/// tail of the derivative (σ′(x) ≈ e⁻ˣ, where 1 − σ(x) would cancel) included; a scalar gives
/// the bits a tensor gives; the pullback may write over its cotangent.
@Suite("Vectorized sigmoid and its pullback: within 1.5 ulps over the whole range")
struct SigmoidTests {
  static func exact(_ x: Double) -> Extended { 1 / (1 + Foundation.exp(-Extended(x))) }

  /// Inputs over every binade from subnormals to the largest finite, both signs, with a dense
  /// sample where neither tail has begun.
  static let inputs: [Double] = {
    var generator = SeededGenerator(seed: 61)
    let binades = everyBinade(10, using: &generator)
    let middle = (0..<100_000).map { _ in Double.random(in: -50...50, using: &generator) }
    return binades + middle + [-745, -744.5, -709, 36, 37, 38, 40, 709, 745]
  }()

  @Test func valuesWithinOneAndAHalfUlpsInEveryWidth() {
    for width in kernelWidths {
      let ys = runKernel(atWidth(\.sigmoids), width: width, on: Self.inputs)
      var worst = (error: 0.0, x: 0.0)
      for (x, y) in zip(Self.inputs, ys) {
        let error = ulpError(y, exact: Self.exact(x))
        if error > worst.error { worst = (error, x) }
      }
      #expect(worst.error <= 1.5, "width \(width): worst \(worst.error) ulp at x = \(worst.x)")
    }
  }

  @Test func pullbackWithinThreeUlpsOfTheExactDerivativeInEveryWidth() {
    // g = 1, so the pullback is σ′(x) = σ(x) σ(−x); in place, the destination being the
    // cotangent's buffer, as the sweep calls it.
    let ys = runKernel(atWidth(\.sigmoids), width: Int(bp_kernel_width()), on: Self.inputs)
    for width in kernelWidths {
      var g = [Double](repeating: 1, count: Self.inputs.count)
      Self.inputs.withUnsafeBufferPointer { x in
        ys.withUnsafeBufferPointer { y in
          g.withUnsafeMutableBufferPointer { g in
            kernel(\.sigmoid_pullbacks, width: Int32(width))(
              g.baseAddress, 0, x.baseAddress, y.baseAddress, g.baseAddress,
              x.count)
          }
        }
      }
      var worst = (error: 0.0, x: 0.0)
      for (x, d) in zip(Self.inputs, g) {
        let error = ulpError(d, exact: Self.exact(x) * Self.exact(-x))
        if error > worst.error { worst = (error, x) }
      }
      #expect(worst.error <= 3, "width \(width): worst \(worst.error) ulp at x = \(worst.x)")
    }
    // At x = 40, 1 − σ(40) rounds to 0; σ(40) σ(−40) is e⁻⁴⁰ to a few ulps.
    var (g, x, y, d) = (1.0, 40.0, Self.sigmoidByKernel(40), 0.0)
    bp_sigmoid_pullbacks(&g, 0, &x, &y, &d, 1)
    #expect(abs(d / Foundation.exp(-40.0) - 1) < 1e-15)
  }

  @Test func specialValuesRemaindersAndTheScalarPath() {
    let specials: [Double] = [0, -0.0, .infinity, -.infinity, .nan, 800, -800]
    for width in kernelWidths {
      let y = runKernel(atWidth(\.sigmoids), width: width, on: specials)
      #expect(y[0] == 0.5 && y[1] == 0.5 && y[2] == 1 && y[3] == 0 && y[4].isNaN, "\(width)")
      #expect(y[5] == 1 && y[6] == 0, "width \(width)")
      expectEveryRemainder(atWidth(\.sigmoids), width: width, scalar: Sigmoid.scalar)
    }
    // The primitive's scalar σ gives the dispatched vectors' bits, so a rank-0 tensor and a
    // tensor holding the same scalar agree.
    let ys = runKernel(atWidth(\.sigmoids), width: Int(bp_kernel_width()), on: Self.inputs)
    #expect(zip(Self.inputs, ys).allSatisfy { Sigmoid.scalar($0) == $1 || $1.isNaN })
  }

  /// The forward kernel that also keeps σ′ gives `bp_sigmoids`' bits for σ and the pullback
  /// kernel's bits (cotangent 1) for σ′, over the whole range and the special values, in every
  /// width and every remainder, and writes nothing past the count.
  @Test func valueAndDerivativeTogetherAreTheTwoKernelsBits() {
    let specials: [Double] = [
      0, -0.0, .infinity, -.infinity, .nan, 800, -800, .leastNonzeroMagnitude, 36, 37, 40, -40,
    ]
    let inputs = specials + Self.inputs
    func same(_ a: Double, _ b: Double) -> Bool {
      a.bitPattern == b.bitPattern || a.isNaN && b.isNaN
    }
    for width in kernelWidths {
      let ys = runKernel(atWidth(\.sigmoids), width: width, on: inputs)
      var ones = [Double](repeating: 1, count: inputs.count)
      inputs.withUnsafeBufferPointer { x in
        ys.withUnsafeBufferPointer { y in
          ones.withUnsafeMutableBufferPointer { g in
            kernel(\.sigmoid_pullbacks, width: Int32(width))(
              g.baseAddress, 0, x.baseAddress, y.baseAddress, g.baseAddress, x.count)
          }
        }
      }
      for count in [inputs.count] + Array(0...17) {
        var values = [Double](repeating: 42, count: count + 1)
        var derivatives = values
        inputs.withUnsafeBufferPointer { x in
          values.withUnsafeMutableBufferPointer { v in
            derivatives.withUnsafeMutableBufferPointer { d in
              kernel(\.sigmoids_and_derivatives, width: Int32(width))(
                x.baseAddress, v.baseAddress, d.baseAddress, count)
            }
          }
        }
        #expect(values[count] == 42 && derivatives[count] == 42, "width \(width), count \(count)")
        let wrong = (0..<count).filter {
          !same(values[$0], ys[$0]) || !same(derivatives[$0], ones[$0])
        }
        #expect(
          wrong.isEmpty,
          "width \(width), count \(count): \(wrong.count) differ, first at x = \(wrong.first.map { inputs[$0] } ?? 0)"
        )
      }
    }
  }

  /// Through the tape, the VJP from the kept σ′ gives the rule's bits, ȳ ⊙ (y ⊙ σ(−x)) in tensor
  /// operations, small and large, in place and not, with edges in the input and the cotangent;
  /// a sigmoid whose input needs no gradient keeps no σ′, and the Hessian (recorded, which does
  /// not read σ′) is diag(σ′ ⊙ (1 − 2σ)) ⊙ w.
  @Test func keptDerivativeGivesTheRulesBits() {
    let edges: [Double] = [
      0, -0.0, .infinity, -.infinity, .nan, 800, -800, .leastNonzeroMagnitude, 38, -38, 1e17,
    ]
    for count in [7, LargeBuffer.threshold + 3] {
      var generator = SeededGenerator(seed: UInt64(count))
      let x = Tensor(
        (0..<count).map {
          $0 < edges.count ? edges[$0] : Double.random(in: -30...30, using: &generator)
        })
      let w = Tensor((0..<count).map { [1, -2, 0, .infinity, 0.5][$0 % 5] })
      let rule = w * (sigmoid(x) * sigmoid(-x))
      func same(_ a: Tensor, _ b: Tensor) -> Bool {
        zip(a.scalars, b.scalars).allSatisfy {
          $0.bitPattern == $1.bitPattern || $0.isNaN && $1.isNaN
        }
      }
      #expect(same(gradient(at: x) { (sigmoid($0) * w).sum() }, rule), "\(count), weighted")
      #expect(
        same(gradient(at: x) { sigmoid($0).sum() }, sigmoid(x) * sigmoid(-x)), "\(count), sum")
      let tape = Tape()
      let v = tape.variable(x)
      let y = (sigmoid(v) * w).sum()
      #expect(same(tape.gradient(of: y, wrt: v), rule), "\(count), a tape kept")
      #expect(same(tape.gradient(of: y, wrt: v), rule), "\(count), the same tape swept again")
      #expect(tape.saved.map { $0.tensor?.scalarCount } == [count], "\(count): σ′ kept once")
      let constant = Tape()
      _ = sigmoid(constant.constant(x))
      #expect(constant.saved.isEmpty, "\(count): nothing kept without a gradient")
    }
    let x: Tensor = [-3, 0.5, 2]
    let s = sigmoid(x)
    let h = hessian(at: x) { sigmoid($0).sum() }
    let expected: Tensor = s * sigmoid(-x) * (1 - s - s)
    for i in 0..<3 {
      #expect(abs(h[i, i] - expected[i].scalar!) < 1e-16)
    }
  }

  /// σ of one scalar by the dispatched kernel.
  static func sigmoidByKernel(_ x: Double) -> Double {
    var (input, output) = (x, 0.0)
    bp_sigmoids(&input, &output, 1)
    return output
  }
}
