internal import BackpropKernels
import Foundation

/// An elementwise primitive's scalar function, as a static method: kernels generic over it are
/// specialized and inlined, so their loops vectorize, which a closure argument does not ensure.
protocol UnaryScalarFunction {
  static func scalar(_ x: Double) -> Double
  /// The function on every scalar of `source`, written to `out` (of the same count). A loop
  /// over ``scalar(_:)`` unless the primitive has a vectorized kernel of its own.
  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>)
}

extension UnaryScalarFunction {
  @inline(__always)
  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    for index in 0..<source.count { out[index] = scalar(source[index]) }
  }
}

/// A two-operand elementwise primitive's scalar function (see ``UnaryScalarFunction``).
protocol BinaryScalarFunction {
  static func scalar(_ a: Double, _ b: Double) -> Double
  /// The C kernel rule (`bp_rule`) that computes ``scalar(_:_:)`` with the same bits, p the
  /// first operand and q the second, or nil for a loop over ``scalar(_:_:)``.
  static var rule: bp_rule_kind? { get }
}

extension BinaryScalarFunction {
  static var rule: bp_rule_kind? { nil }
}

/// The loops every primitive's forward pass is made of. They are internal: the public surface is
/// the primitives, which pair each forward loop with its vector-Jacobian product.
extension Tensor {
  /// A tensor of the same shape with `transform` applied to every scalar. Not recorded: to
  /// differentiate, compose the operations of ``Variable`` instead.
  @inline(__always)
  public func map(_ transform: (Double) -> Double) -> Tensor {
    if case .scalar(let value) = storage { return Tensor(transform(value)) }
    return withUnsafeScalars { source in
      Tensor(shape: shape, count: source.count) { out in
        for index in 0..<source.count { out[index] = transform(source[index]) }
      }
    }
  }

  /// Applies a primitive's scalar function to every scalar.
  @inline(__always)
  func map<Function: UnaryScalarFunction>(_: Function.Type) -> Tensor {
    if case .scalar(let value) = storage { return Tensor(Function.scalar(value)) }
    return withUnsafeScalars { source in
      Tensor(shape: shape, count: source.count) { out in Function.apply(source, into: out) }
    }
  }

  /// `body(a[i], b[i], c[i])` for every scalar of three tensors of one shape (which the caller
  /// has checked), in one pass.
  @inline(__always)
  static func zipping(
    _ a: Tensor, _ b: Tensor, _ c: Tensor, _ body: (Double, Double, Double) -> Double
  ) -> Tensor {
    let shape = a.shape
    return a.withUnsafeScalars { a in
      b.withUnsafeScalars { b in
        c.withUnsafeScalars { c in
          Tensor(shape: shape, count: a.count) { out in
            for index in 0..<a.count { out[index] = body(a[index], b[index], c[index]) }
          }
        }
      }
    }
  }

  /// ``pulling(_:_:_:output:_:)``'s choice of buffer for a rule that is a C kernel:
  /// `kernel(g, uniform, a, b, out, count)` with g the cotangent's scalars, or nil and its one
  /// value `uniform` when it is rank 0 and `a` is not. The kernel must allow `out` to be g's
  /// buffer or the output's (each position read before it is written). Takes the cotangent,
  /// and the output when the result is written there.
  static func pulling(
    _ cotangent: inout Tensor?, _ a: Tensor, _ b: Tensor, output: inout Tensor,
    kernel: (
      UnsafePointer<Double>?, Double, UnsafePointer<Double>?, UnsafePointer<Double>?,
      UnsafeMutablePointer<Double>?, Int
    ) -> Void
  ) -> Tensor {
    var g = cotangent.take()!
    let shape = a.shape
    return a.withUnsafeScalars { a in
      b.withUnsafeScalars { b in
        let count = a.count
        if case .scalar(let c) = g.storage, !shape.isEmpty {
          if output.holdsUniqueLargeBuffer() {
            output.withUnsafeMutableScalars { out in
              kernel(nil, c, a.baseAddress, b.baseAddress, out.baseAddress, count)
            }
            return output.takenOut()
          }
          return Tensor(shape: shape, count: count) { out in
            kernel(nil, c, a.baseAddress, b.baseAddress, out.baseAddress, count)
          }
        }
        if g.holdsUniqueLargeBuffer() {
          g.withUnsafeMutableScalars { out in
            kernel(out.baseAddress, 0, a.baseAddress, b.baseAddress, out.baseAddress, count)
          }
          return g
        }
        return g.withUnsafeScalars { g in
          if output.holdsUniqueLargeBuffer() {
            output.withUnsafeMutableScalars { out in
              kernel(g.baseAddress, 0, a.baseAddress, b.baseAddress, out.baseAddress, count)
            }
            return output.takenOut()
          }
          return Tensor(shape: shape, count: count) { out in
            kernel(g.baseAddress, 0, a.baseAddress, b.baseAddress, out.baseAddress, count)
          }
        }
      }
    }
  }

  /// ``pulling(_:_:_:output:_:)`` for a rule of the C kernels: `rule(ȳ, a, y)` at every
  /// position (see `bp_rule`), with ȳ the cotangent's scalars, or its one value when it is rank
  /// 0 and `a` is not, and y the entry's output where `readsOutput`, into the cheapest place: the
  /// cotangent's buffer, else the output's, else a new one.
  static func pulling(
    _ cotangent: inout Tensor?, _ a: Tensor, output: inout Tensor, rule: bp_rule_kind,
    readsOutput: Bool = false
  ) -> Tensor {
    var g = cotangent.take()!
    let shape = a.shape
    let uniform: Double? = if case .scalar(let c) = g.storage, !shape.isEmpty { c } else { nil }
    return a.withUnsafeScalars { a in
      func run(
        _ g: UnsafePointer<Double>?, _ y: UnsafePointer<Double>?,
        _ out: UnsafeMutablePointer<Double>?
      ) {
        bp_rule(rule, g, uniform ?? 0, a.baseAddress, 0, readsOutput ? y : nil, out, a.count)
      }
      if uniform == nil, g.holdsUniqueLargeBuffer() {
        output.withUnsafeScalars { y in
          g.withUnsafeMutableScalars { g in run(g.baseAddress, y.baseAddress, g.baseAddress) }
        }
        return g
      }
      return g.withUnsafeScalars { g in
        let cotangent = uniform == nil ? g.baseAddress : nil
        if output.holdsUniqueLargeBuffer() {
          output.withUnsafeMutableScalars { y in run(cotangent, y.baseAddress, y.baseAddress) }
          return output.takenOut()
        }
        return output.withUnsafeScalars { y in
          Tensor(shape: shape, count: a.count) { out in
            run(cotangent, y.baseAddress, out.baseAddress)
          }
        }
      }
    }
  }

  /// The one-pass loop of the sweep's fused VJPs: `body(g[i], a[i], b[i], y[i])` for every
  /// scalar, with y the entry's output, into the cheapest place.
  ///
  /// g is the cotangent's scalars, or its one value at every position when it is rank 0 and
  /// `a` is not: a sum's VJP passes its cotangent on so (see the sweep), with no tensor of
  /// copies. The result goes over the cotangent's buffer when nothing else holds it; else over
  /// the output's, when nothing else holds that (the sweep moved it out of a tape that no one
  /// can read again; each y[i] is read before out[i] is written); else into a new tensor. Takes
  /// the cotangent, and the output when the result is written there (leaving a rank-0 zero).
  @inline(__always)
  static func pulling(
    _ cotangent: inout Tensor?, _ a: Tensor, _ b: Tensor, output: inout Tensor,
    _ body: (Double, Double, Double, Double) -> Double
  ) -> Tensor {
    var g = cotangent.take()!
    let shape = a.shape
    return a.withUnsafeScalars { a in
      b.withUnsafeScalars { b in
        if case .scalar(let c) = g.storage, !shape.isEmpty {
          if output.holdsUniqueLargeBuffer() {
            output.withUnsafeMutableScalars { out in
              for index in 0..<out.count { out[index] = body(c, a[index], b[index], out[index]) }
            }
            return output.takenOut()
          }
          return output.withUnsafeScalars { y in
            Tensor(shape: shape, count: a.count) { out in
              for index in 0..<a.count { out[index] = body(c, a[index], b[index], y[index]) }
            }
          }
        }
        if g.holdsUniqueLargeBuffer() {
          output.withUnsafeScalars { y in
            g.withUnsafeMutableScalars { out in
              for index in 0..<out.count {
                out[index] = body(out[index], a[index], b[index], y[index])
              }
            }
          }
          return g
        }
        if output.holdsUniqueLargeBuffer() {
          g.withUnsafeScalars { g in
            output.withUnsafeMutableScalars { out in
              for index in 0..<out.count {
                out[index] = body(g[index], a[index], b[index], out[index])
              }
            }
          }
          return output.takenOut()
        }
        return g.withUnsafeScalars { g in
          output.withUnsafeScalars { y in
            Tensor(shape: shape, count: a.count) { out in
              for index in 0..<a.count { out[index] = body(g[index], a[index], b[index], y[index]) }
            }
          }
        }
      }
    }
  }

  /// This tensor, leaving a rank-0 zero in its place: a move out of a variable.
  /// ȳ ⊙ v where the cotangent is rank 0 and exactly 1, the seed of a sum that the sweep passes
  /// on as one value (the gradient of `exp(x).sum()` is exp(x)): v itself, taken out with no
  /// pass over it, since 1 · v is v in IEEE arithmetic for every v (±0, subnormals, ±∞, NaN).
  /// `nil` for any other cotangent, which it leaves; takes it otherwise.
  static func unitScaled(_ cotangent: inout Tensor?, _ v: inout Tensor) -> Tensor? {
    guard let g = cotangent, case .scalar(let c) = g.storage, c == 1, !v.shape.isEmpty else {
      return nil
    }
    cotangent = nil
    return v.takenOut()
  }

  mutating func takenOut() -> Tensor {
    var taken = Tensor(0)
    swap(&taken, &self)
    return taken
  }

  /// A C kernel with two results, `kernel(source, first, second, count)` (Lanes.h's
  /// `DEFINE_PAIR_KERNEL_ENTRIES`).
  typealias PairKernel = (
    UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Double>?, Int
  ) -> Void

  /// What a function built on a two-result kernel does with its results: `transform(x, first,
  /// second)` over both buffers, each lane read before it is written.
  typealias PairTransform = (
    UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>,
    UnsafeMutableBufferPointer<Double>
  ) -> Void

  /// Two new tensors of x's shape (not rank 0) from one pass of a two-result kernel
  /// (`kernel(source, first, second, count)`, such as a value and its derivative), then
  /// `transform` over them.
  @inline(__always)
  static func pair(
    _ x: Tensor, kernel: PairKernel, then transform: PairTransform
  ) -> (Tensor, Tensor) {
    var second = Tensor(0)
    let first = x.withUnsafeScalars { source in
      Tensor(shape: x.shape, count: source.count) { first in
        second = Tensor(shape: x.shape, count: source.count) { second in
          kernel(source.baseAddress, first.baseAddress, second.baseAddress, source.count)
          transform(source, first, second)
        }
      }
    }
    return (first, second)
  }

  /// A derivative from a vectorized kernel, scaled by the cotangent: `apply` writes f′(x) for
  /// every scalar of `x` into the output's buffer when nothing else holds it (as
  /// ``pulling(_:_:_:output:_:)``), else into a new one, and then `body(g[i], f′[i])` is
  /// written over it, g as there (a rank-0 cotangent is one value everywhere).
  @inline(__always)
  static func scaledDerivative(
    _ cotangent: inout Tensor?, _ x: Tensor, output: inout Tensor,
    apply: (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void,
    _ body: (Double, Double) -> Double
  ) -> Tensor {
    let g = cotangent.take()!
    var derivative: Tensor
    if output.holdsUniqueLargeBuffer() {
      derivative = output.takenOut()
      x.withUnsafeScalars { x in derivative.withUnsafeMutableScalars { out in apply(x, out) } }
    } else {
      derivative = x.withUnsafeScalars { source in
        Tensor(shape: x.shape, count: source.count) { out in apply(source, out) }
      }
    }
    if case .scalar(let c) = g.storage, !x.shape.isEmpty {
      derivative.withUnsafeMutableScalars { out in
        for index in 0..<out.count { out[index] = body(c, out[index]) }
      }
      return derivative
    }
    return derivative.scaled(by: g, body)
  }

  /// `body(g[i], self[i])` for every scalar, written over this tensor's buffer (a fresh one the
  /// caller owns, such as a derivative just computed), for `g` of the same shape.
  @inline(__always)
  consuming func scaled(by g: Tensor, _ body: (Double, Double) -> Double) -> Tensor {
    var result = self
    g.withUnsafeScalars { g in
      result.withUnsafeMutableScalars { out in
        for index in 0..<out.count { out[index] = body(g[index], out[index]) }
      }
    }
    return result
  }

  /// Whether this tensor's scalars are in a large buffer that nothing else references, so that
  /// writing them in place is invisible to every other value.
  mutating func holdsUniqueLargeBuffer() -> Bool {
    guard case .large = storage else { return false }
    // Moved out of the storage, and the enum that held it emptied, the buffer is referenced
    // once more only if another value holds it. (Switching over a consumed enum instead kept
    // the enum's own reference alive in debug builds, so the answer there was always no: the
    // in-place paths never ran under `swift test`. LargeBufferTests now checks both answers.)
    var taken = Storage.scalar(0)
    swap(&taken, &storage)
    guard case .large(let shape, var buffer) = taken else {
      storage = taken
      return false
    }
    taken = .scalar(0)
    let unique = isKnownUniquelyReferenced(&buffer)
    storage = .large(shape: shape, buffer)
    return unique
  }

  /// Combines two tensors with a primitive's scalar function under NumPy broadcasting, with
  /// tight loops for equal shapes and for a single scalar on either side.
  ///
  /// Two rank-0 operands are handled here, inlined into the caller: a chain of scalar
  /// operations (and its backward pass) then costs no call per operation.
  @inline(__always)
  static func elementwise<Function: BinaryScalarFunction>(
    _ lhs: Tensor, _ rhs: Tensor, op: String, _ function: Function.Type
  ) -> Tensor {
    if case .scalar(let a) = lhs.storage, case .scalar(let b) = rhs.storage {
      return Tensor(Function.scalar(a, b))
    }
    return elementwiseOfBuffers(lhs, rhs, op: op, function)
  }

  /// ``elementwise(_:_:op:_:)`` where an operand has a buffer.
  static func elementwiseOfBuffers<Function: BinaryScalarFunction>(
    _ lhs: Tensor, _ rhs: Tensor, op: String, _: Function.Type
  ) -> Tensor {
    let (lhsShape, rhsShape) = (lhs.shape, rhs.shape)
    let shape = Shape.broadcast(lhsShape, rhsShape, op: op)
    let count = Shape.scalarCount(shape, op: op)
    return lhs.withUnsafeScalars { a in
      rhs.withUnsafeScalars { b in
        Tensor(shape: shape, count: count) { out in
          if let rule = Function.rule, lhsShape == shape || rhsShape == shape,
            lhsShape == rhsShape || a.count == 1 || b.count == 1
          {
            // One operand of the result's shape, the other of it or a single value.
            let (p, q) = (a.count == 1 ? nil : a.baseAddress, b.count == 1 ? nil : b.baseAddress)
            bp_rule(rule, p, a.first ?? 0, q, b.first ?? 0, nil, out.baseAddress, count)
          } else if lhsShape == rhsShape {
            for index in 0..<count { out[index] = Function.scalar(a[index], b[index]) }
          } else if b.count == 1 && lhsShape == shape {
            let b0 = b[0]
            for index in 0..<count { out[index] = Function.scalar(a[index], b0) }
          } else if a.count == 1 && rhsShape == shape {
            let a0 = a[0]
            for index in 0..<count { out[index] = Function.scalar(a0, b[index]) }
          } else if let last = shape.last, last > 0 {
            // Row by row: each operand's innermost stride is 1 (it has the row) or 0 (it is
            // broadcast along it), so each row is one of four loops with fixed strides, which
            // vectorize, where one loop with strides in variables did not.
            let aStrides = Shape.broadcastStrides(of: lhsShape, to: shape)
            let bStrides = Shape.broadcastStrides(of: rhsShape, to: shape)
            let (aRow, bRow) = (aStrides[shape.count - 1] != 0, bStrides[shape.count - 1] != 0)
            // The base addresses as constants: the closure would reload a captured buffer's at
            // every store, which keeps the loops scalar.
            let (pa, pb, po) = (a.baseAddress!, b.baseAddress!, out.baseAddress!)
            Shape.forEachPosition(
              in: Array(shape.dropLast()), strides: Array(aStrides.dropLast()),
              Array(bStrides.dropLast())
            ) { row, i, j in
              let (o, x, y) = (po + row * last, pa + i, pb + j)
              switch (aRow, bRow) {
              case (true, true):
                for k in 0..<last { o[k] = Function.scalar(x[k], y[k]) }
              case (true, false):
                let yj = y[0]
                for k in 0..<last { o[k] = Function.scalar(x[k], yj) }
              case (false, true):
                let xi = x[0]
                for k in 0..<last { o[k] = Function.scalar(xi, y[k]) }
              case (false, false):
                o.update(repeating: Function.scalar(x[0], y[0]), count: last)
              }
            }
          }
        }
      }
    }
  }

  /// Folds the scalars along `axes` with a primitive's scalar function, starting from
  /// `initial`; the reduced axes stay in the shape with size 1.
  func reduce<Function: BinaryScalarFunction>(
    alongAxes axes: [Int], op: String, initial: Double, _: Function.Type
  ) -> Tensor {
    let axes = Shape.normalize(axes: axes, rank: rank, op: op)
    if axes.isEmpty { return self }
    let inShape = self.shape
    var shape = inShape
    for axis in axes { shape[axis] = 1 }
    let count = Shape.scalarCount(shape, op: op)
    return withUnsafeScalars { source in
      Tensor(shape: shape, count: count) { out in
        if axes == Array((rank - axes.count)..<rank) {
          // The reduced axes are the trailing ones: each result folds one contiguous run.
          let run = count == 0 ? 0 : source.count / count
          for o in 0..<count {
            var total = initial
            for i in (o * run)..<((o + 1) * run) { total = Function.scalar(total, source[i]) }
            out[o] = total
          }
        } else if axes == Array(0..<axes.count), let po = out.baseAddress,
          let ps = source.baseAddress
        {
          // The reduced axes are the leading ones: each run of `count` scalars folds into the
          // result as a whole row, in a loop that vectorizes. Each result still folds its
          // scalars in the order of the general loop below, so the bits are the same.
          out.initialize(repeating: initial)
          let runs = count == 0 ? 0 : source.count / count
          for run in 0..<runs {
            let row = ps + run * count
            for o in 0..<count { po[o] = Function.scalar(po[o], row[o]) }
          }
        } else {
          out.initialize(repeating: initial)
          let outStrides = Shape.broadcastStrides(of: shape, to: inShape)
          Shape.forEachPosition(in: inShape, strides: outStrides, outStrides) { linear, o, _ in
            out[o] = Function.scalar(out[o], source[linear])
          }
        }
      }
    }
  }

  /// The tensor repeated along new leading axes and axes of size 1 to fill `target`, as NumPy
  /// broadcasting does: yᵢ = x at the index with broadcast axes set to 0.
  ///
  /// - Precondition: this shape broadcasts to `target`.
  public func broadcasted(to target: [Int]) -> Tensor {
    let shape = self.shape
    require(
      Shape.broadcasts(shape, to: target),
      "broadcast: shape \(shape) does not broadcast to \(target)")
    if target == shape { return self }
    let count = Shape.scalarCount(target, op: "broadcast")
    let lead = target.count - shape.count
    // Which axes are repeated: a trailing block (each scalar repeats in a run) or a leading
    // block (the whole tensor repeats) have tight loops; any other pattern walks strides.
    let repeated = target.indices.map { $0 < lead || shape[$0 - lead] != target[$0] }
    let firstRepeated = repeated.firstIndex(of: true) ?? target.count
    let lastKept = repeated.lastIndex(of: false) ?? -1
    return withUnsafeScalars { source in
      Tensor(shape: target, count: count) { out in
        if source.count == 1 {
          // One value everywhere (a uniform cotangent spread): the fill kernel, eight lanes
          // a store, where a Swift loop's two-lane stores bound the gradient of a sum.
          bp_fill(source[0], out.baseAddress, count)
        } else if lastKept < firstRepeated {
          let run = source.count == 0 ? 0 : count / source.count
          for i in 0..<source.count {
            for o in (i * run)..<((i + 1) * run) { out[o] = source[i] }
          }
        } else if repeated.lastIndex(of: true)! < repeated.firstIndex(of: false)! {
          // The whole tensor, copied block after block (a division a scalar, o % n, costs
          // more than the copy).
          guard let from = source.baseAddress, let to = out.baseAddress else { return }
          for start in stride(from: 0, to: count, by: source.count) {
            (to + start).update(from: from, count: source.count)
          }
        } else {
          let strides = Shape.broadcastStrides(of: shape, to: target)
          Shape.forEachPosition(in: target, strides: strides, strides) { linear, i, _ in
            out[linear] = source[i]
          }
        }
      }
    }
  }
}
