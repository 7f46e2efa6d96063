import BackpropCommand
import Foundation
import Testing

/// Runs the executable with `arguments` under a hard cap on its address space (the shell's
/// `ulimit -v`), with standard input from `inputFile` if given, and returns its status and
/// standard error. A process that needs more than the cap fails to allocate and aborts, so a
/// clean exit proves that it stayed within it. (Peak resident memory from wait4 cannot be used:
/// Linux carries the spawning test process's own peak into the child's.)
func runUnderMemoryCap(
  _ arguments: [String], capBytes: Int, inputFile: String? = nil
) throws -> (status: Int32, errors: String) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/bin/sh")
  process.arguments =
    ["-c", "ulimit -v \(capBytes / 1024) && exec \"$0\" \"$@\"", try backpropExecutable().path]
    + arguments
  process.standardInput =
    inputFile.flatMap { FileHandle(forReadingAtPath: $0) } ?? FileHandle.nullDevice
  process.standardOutput = FileHandle.nullDevice
  let errors = Pipe()
  process.standardError = errors
  try process.run()
  let data = errors.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Whether this test process (and so the executable beside it) is built with a sanitizer,
/// which reserves terabytes of address space for its shadow memory: a cap on the address space
/// then stops the process before it starts, and says nothing about Backprop.
let builtWithSanitizer: Bool = {
  // dlsym's handle that searches every loaded image: RTLD_DEFAULT, 0 in glibc, −2 on Darwin.
  #if canImport(Darwin)
    let everyImage = UnsafeMutableRawPointer(bitPattern: -2)
  #else
    let everyImage = UnsafeMutableRawPointer(bitPattern: 0)
  #endif
  return dlsym(everyImage, "__asan_init") != nil || dlsym(everyImage, "__tsan_init") != nil
}()

/// Whether `ulimit -v` caps a process's address space here: Linux enforces RLIMIT_AS; Darwin
/// accepts the limit and does not enforce it, or refuses it.
#if os(Linux)
  let capsAddressSpace = true
#else
  let capsAddressSpace = false
#endif

@Suite("backprop: memory and work are budgeted before anything runs")
struct BudgetTests {
  static let ones7000Row = "[[" + Array(repeating: "1", count: 7000).joined(separator: ",") + "]]"
  static let ones7000Column =
    "[" + Array(repeating: "[1]", count: 7000).joined(separator: ",") + "]"

  @Test func theTapeAsAWholeIsBudgeted() {
    // Each term keeps two 49M-scalar intermediates; two of them need more than 4 GiB.
    let terms = "sum(x*(R+C)) + sum(x*(R+C))"
    let result = runCommand([
      "grad", terms, "--at", "x=2", "--at", "R=" + Self.ones7000Row, "--at",
      "C=" + Self.ones7000Column,
    ])
    #expect(result.status == 2)
    #expect(
      result.errors.hasPrefix("error: this grad would need about")
        && result.errors.contains("more than the budget of 4 GiB; raise it with --max-memory"),
      "\(result.errors)")
  }

  @Test func workIsBudgetedPerOperator() {
    // A 200 × 200 output with respect to one scalar: 40,000 sweeps.
    let matrix =
      "["
      + Array(
        repeating: "[" + Array(repeating: "1", count: 200).joined(separator: ",") + "]", count: 200
      ).joined(separator: ",") + "]"
    let jacobian = runCommand(["jacobian", "x * " + matrix, "--at", "x=1"])
    #expect(jacobian.status == 2 && jacobian.errors.contains("--max-work"), "\(jacobian.errors)")
    let vector = Array(repeating: "0.5", count: 7000).joined(separator: ",")
    let hessian = runCommand([
      "hessian", "sum(exp(x + C))", "--at", "x=" + vector, "--at", "C=" + vector,
    ])
    #expect(
      hessian.status == 2 && hessian.errors.contains("scalar operations"), "\(hessian.errors)")
    let softmax = runCommand(["softmax"] + Array(repeating: "1", count: 4000))
    #expect(softmax.status == 2 && softmax.errors.contains("--max-work"), "\(softmax.errors)")
    // Raising the budget lets a request through; a small request always passes.
    #expect(runCommand(["softmax", "1", "2", "--max-work", "1e3"]).status == 0)
    #expect(runCommand(["softmax", "1", "2", "3", "--max-work", "10"]).status == 2)
  }

  @Test func budgetOptionsAreChecked() {
    #expect(
      runCommand(["grad", "x", "--at", "x=1", "--max-memory", "lots"]).errors.hasPrefix(
        "error: --max-memory 'lots'"))
    #expect(runCommand(["grad", "x", "--at", "x=1", "--max-work", "-1"]).status == 2)
    #expect(
      runCommand(["grad", "x", "--at", "x=1", "--max-memory", "512M", "--max-work", "1e6"]).status
        == 0)
  }

  @Test(
    .disabled(if: builtWithSanitizer, "a sanitizer's shadow memory exceeds any cap"),
    .enabled(if: capsAddressSpace, "only Linux enforces ulimit -v"))
  func longStandardInputIsRefusedInBoundedMemory() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
      "backprop-stdin-\(getpid())"
    ).path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Data(repeating: UInt8(ascii: " "), count: 20 << 20).write(to: URL(fileURLWithPath: path))
    // 20 MiB of input in a 200 MiB address space: refused cleanly, not an allocation failure.
    let run = try runUnderMemoryCap(
      ["grad", "-", "--at", "x=1"], capBytes: 200 << 20, inputFile: path)
    #expect(run.status == 2 && run.errors.hasPrefix("error: the expression is longer"), "\(run)")
    let inProcess = runCommand(["grad", "-"]) { String(repeating: " ", count: (4 << 20) + 1) }
    #expect(inProcess.errors.hasPrefix("error: the expression is longer than 4194304 bytes"))
  }

  @Test(
    "The memory estimate bounds the real need",
    .disabled(if: builtWithSanitizer, "a sanitizer's shadow memory exceeds any cap"),
    .enabled(if: capsAddressSpace, "only Linux enforces ulimit -v"))
  func estimateBoundsTheNeed() throws {
    // An estimate just under a 700 MiB budget, run for real with its address space capped at
    // 700 MiB: it finishes, so it never needed more.
    let row = "[[" + Array(repeating: "1", count: 2500).joined(separator: ",") + "]]"
    let column = "[" + Array(repeating: "[1]", count: 2500).joined(separator: ",") + "]"
    let arguments = [
      "grad", "sum(exp(x*(R+C)))", "--at", "x=0.001", "--at", "R=" + row, "--at", "C=" + column,
      "--max-memory", "700M",
    ]
    #expect(runCommand(arguments + ["--max-memory", "300M"]).status == 2)
    let run = try runUnderMemoryCap(arguments, capBytes: 700 << 20)
    #expect(run.status == 0, "\(run.errors)")
  }
}
