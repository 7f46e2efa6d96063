import BackpropKernels
import Foundation
import Testing

@testable import Backprop

/// Tensors of 2 MiB and more live in huge-page-aligned buffers of their own instead of arrays.
/// They must be indistinguishable from the array storage: values, copy-on-write, reshapes,
/// equality, and gradients through them.
@Suite("Large tensors: huge-page buffers behave as values")
struct LargeBufferTests {
  /// One scalar past the threshold, and a shape whose count is not a multiple of a page.
  static let counts = [LargeBuffer.threshold, LargeBuffer.threshold + 1_001]

  @Test("Results of kernels take the large storage from the threshold up, aligned to 2 MiB")
  func storageChoice() {
    let small = Tensor.zeros([LargeBuffer.threshold - 1])
    guard case .buffer = small.storage else {
      Issue.record("below the threshold a tensor keeps an array")
      return
    }
    for count in Self.counts {
      let large = Tensor.ones([count])
      guard case .large(let shape, let buffer) = large.storage else {
        Issue.record("\(count) scalars should be in a large buffer")
        continue
      }
      #expect(shape == [count])
      #expect(buffer.count == count)
      #expect(Int(bitPattern: buffer.base) % LargeBuffer.hugePageBytes == 0)
      #expect(large.scalarCount == count && large.rank == 1 && large.scalar == nil)
    }
  }

  @Test("Copy-on-write: a mutation through one copy leaves the other unchanged", arguments: counts)
  func copyOnWrite(count: Int) {
    let original = Tensor(rangeFrom: 0, to: Double(count), stride: 1)
    var copy = original
    copy += Tensor(1)
    #expect(original[[count - 1]] == Double(count - 1))
    #expect(copy[[count - 1]] == Double(count))
    #expect(original[[0]] == 0 && copy[[0]] == 1)
    // Held once, the same buffer is changed in place.
    var unique = Tensor.zeros([count])
    let before = unique.withUnsafeScalars { $0.baseAddress }
    unique.withUnsafeMutableScalars { $0[3] = 7 }
    #expect(unique.withUnsafeScalars { $0.baseAddress } == before)
    #expect(unique[[3]] == 7)
  }

  @Test("Equal to an array-backed tensor with the same scalars; reshapes share the buffer")
  func equalityAndReshape() {
    let count = LargeBuffer.threshold + 6
    let scalars = (0..<count).map { Double($0 % 97) - 40 }
    let fromArray = Tensor(shape: [count], scalars: scalars)
    let computed = fromArray.map { $0 }
    guard case .large = computed.storage, case .buffer = fromArray.storage else {
      Issue.record("expected one array-backed and one large tensor")
      return
    }
    #expect(computed == fromArray)
    #expect(computed.scalars == scalars)
    let matrix = computed.reshaped(to: [count / 2, 2])
    #expect(matrix.shape == [count / 2, 2])
    #expect(matrix[count / 2 - 1, 1] == scalars[count - 1])
    #expect(
      matrix.withUnsafeScalars { $0.baseAddress } == computed.withUnsafeScalars { $0.baseAddress })
  }

  @Test("Gradients through large tensors equal the analytic ones, exactly")
  func gradients() {
    let count = LargeBuffer.threshold + 3
    let x = Tensor(linearSpaceFrom: -2, to: 3, count: count)
    let (value, g) = valueWithGradient(at: x) { x in (x * x).sum() + exp(x)[count - 1] }
    let xs = x.scalars
    let squares: Double = xs.reduce(0) { $0 + $1 * $1 }
    #expect(abs(value.scalar! - (squares + Foundation.exp(xs[count - 1]))) <= 1e-9 * squares)
    var expected: [Double] = xs.map { 2 * $0 }
    expected[count - 1] += Foundation.exp(xs[count - 1])
    #expect(g.scalars == expected)
  }

  /// Whether a tensor holds its large buffer alone, which decides every in-place VJP: yes for
  /// a fresh result, no while a copy or a reshape shares it, yes again once that is gone, and
  /// no for array-backed storage. The answer leaves the tensor as it was.
  @Test func holdsItsBufferAloneOnlyWhenNothingElseDoes() {
    let source = Tensor((0..<(LargeBuffer.threshold + 3)).map(Double.init))
    var fresh = exp(source * 1e-6)
    let expected = fresh.scalars
    var answers: [Bool] = [fresh.holdsUniqueLargeBuffer()]
    var copy: Tensor? = fresh
    answers.append(fresh.holdsUniqueLargeBuffer())
    #expect(copy!.scalars == expected)
    copy = nil
    answers.append(fresh.holdsUniqueLargeBuffer())
    var reshaped: Tensor? = fresh.reshaped(to: [1, LargeBuffer.threshold + 3])
    answers.append(fresh.holdsUniqueLargeBuffer())
    #expect(reshaped!.scalarCount == expected.count)
    reshaped = nil
    answers.append(fresh.holdsUniqueLargeBuffer())
    var small = Tensor([1, 2, 3])
    answers.append(small.holdsUniqueLargeBuffer())
    #expect(answers == [true, false, true, false, true, false])
    #expect(fresh.scalars == expected && fresh.shape == [LargeBuffer.threshold + 3])
  }

  /// A gradient at n = 10⁶ allocates two 10 MiB blocks and frees them; glibc used to hand the
  /// heap back at every call and the next call faulted it in again, 10 huge pages (or 5,000 small
  /// ones) a call (BackpropKernels' Heap.c). With the thresholds raised before the first large
  /// buffer, calls after the first reuse the same memory. Faults are counted for this thread
  /// alone (RUSAGE_THREAD), so that tests running beside it do not count, in four rounds of
  /// four calls, and the best round must take none: another thread may shrink the heap once
  /// meanwhile, but not in every round. (A build without the thresholds failed here in four
  /// runs of four, 40 faults in every round; whether it fails depends on what the process freed
  /// before, and an earlier form of the test missed it in two runs of four.) Only where malloc
  /// is glibc's: a sanitizer's allocator, or one preloaded, has thresholds of its own.
  @Test("After the first gradient at 10⁶, the next ones take no page faults")
  func freedBuffersStayMapped() {
    #if os(Linux)
      let libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD)
      defer { if let libc { dlclose(libc) } }
      let glibcMalloc = libc.flatMap { dlsym($0, "malloc") }
      guard let glibcMalloc, dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc") == glibcMalloc
      else { return }
      func faults() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(1), &usage)  // RUSAGE_THREAD, which Glibc does not export
        return usage.ru_minflt
      }
      let x = Tensor(rangeFrom: 0, to: 1, stride: 1e-6)
      #expect(x.scalarCount == 1_000_000)
      func call() -> Double {
        gradient(at: x, of: { sigmoid($0).sum() }).withUnsafeScalars { $0[999_999] }
      }
      for _ in 0..<2 { _ = call() }
      var slopes: [Double] = []
      var rounds: [Int] = []
      for _ in 0..<4 {
        let before = faults()
        for _ in 0..<4 { slopes.append(call()) }
        rounds.append(faults() - before)
      }
      #expect(rounds.min() == 0, "page faults in four rounds of four gradients: \(rounds)")
      let last = x.scalars[999_999]
      #expect(slopes.allSatisfy { $0 == bp_sigmoid(last) * bp_sigmoid(-last) })
    #endif
  }
}
