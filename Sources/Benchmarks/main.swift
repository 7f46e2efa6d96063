import Foundation

// Benchmarks: `swift run -c release Benchmarks [--quick] [--only W1,W3] [--formula TEXT]
// [--repeats N] [--interleaved] [--json PATH]`.
// Every figure is a ratio against a baseline timed in this process, in this run.

var settings = Settings()
var jsonPath = ".build/benchmarks.json"
var only: Set<String>?
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
  switch argument {
  case "--quick": settings.quick = true
  case "--interleaved": settings.interleaved = true
  case "--json":
    guard let path = arguments.popFirst() else {
      FileHandle.standardError.write(Data("error: --json needs a path\n".utf8))
      exit(2)
    }
    jsonPath = path
  case "--repeats":
    guard let text = arguments.popFirst(), let count = Int(text), count > 0 else {
      FileHandle.standardError.write(Data("error: --repeats needs a positive count\n".utf8))
      exit(2)
    }
    settings.repeatsOverride = count
  case "--formula":
    // W7's and W11's formulas whose names contain TEXT, for profiling one of them.
    guard let text = arguments.popFirst() else {
      FileHandle.standardError.write(Data("error: --formula needs text, as logSoftmax\n".utf8))
      exit(2)
    }
    settings.formula = text
  case "--only":
    // A subset of workloads by name, for profiling one of them.
    guard let names = arguments.popFirst() else {
      FileHandle.standardError.write(Data("error: --only needs workload names, as W1,W3\n".utf8))
      exit(2)
    }
    only = Set(names.split(separator: ",").map { $0.uppercased() })
  default:
    FileHandle.standardError.write(
      Data(
        "error: unknown argument '\(argument)'; use --quick, --only NAMES, --formula TEXT, --repeats N, --interleaved or --json PATH\n"
          .utf8))
    exit(2)
  }
}

let processor = processorDescription()
print("processor: \(processor)\n")
var rows: [Row] = []
let workloads: [(String, (Settings) -> [Row])] = [
  ("W1", scalarChain), ("W2", crossEntropyGradient), ("W3", softmaxJacobianWorkload),
  ("W4", classifierStep), ("W5", elementwise), ("W6", memory), ("W7", everydayFormulas),
  ("W8", matrixProductGradient),
  ("W9", twoLayerStep), ("W10", checkpointing), ("W11", breadthFormulas), ("W12", trainingStep),
]
if let only, let unknown = only.subtracting(workloads.map(\.0)).sorted().first {
  FileHandle.standardError.write(
    Data("error: no workload '\(unknown)'; they are W1 to W12\n".utf8))
  exit(2)
}
// A formula names rows of W7 and W11 only, so without --only it runs those two.
let chosen = only ?? (settings.formula == nil ? nil : ["W7", "W11"])
for (name, workload) in workloads where chosen?.contains(name) ?? true {
  let new = workload(settings)
  rows += new
  for row in new {
    let ratio = row.baseline == "—" ? "" : String(format: "%.3g×", row.ratio)
    let status = row.met.map { $0 ? "met" : "MISSED" } ?? ""
    let line = [
      row.workload.padding(toLength: 30, withPad: " ", startingAt: 0),
      row.variant.padding(toLength: 24, withPad: " ", startingAt: 0),
      format(seconds: row.seconds).padding(toLength: 11, withPad: " ", startingAt: 0),
      ratio.padding(toLength: 9, withPad: " ", startingAt: 0),
      row.baseline.padding(toLength: 30, withPad: " ", startingAt: 0),
      row.target.padding(toLength: 20, withPad: " ", startingAt: 0),
      status.padding(toLength: 7, withPad: " ", startingAt: 0),
      row.note,
    ].joined(separator: " ")
    print(line.trimmingCharacters(in: .whitespaces))
  }
}

let records: [[String: Any]] = rows.map { row in
  [
    "workload": row.workload, "variant": row.variant, "seconds": row.seconds,
    "baseline": row.baseline, "baselineSeconds": row.baselineSeconds, "ratio": row.ratio,
    "target": row.target, "met": row.met as Any, "note": row.note,
  ]
}
let document: [String: Any] = [
  "quick": settings.quick, "repeats": settings.repeats, "interleaved": settings.interleaved,
  "processor": processor, "rows": records,
]
do {
  let data = try JSONSerialization.data(
    withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
  try data.write(to: URL(fileURLWithPath: jsonPath))
  print("\nwrote \(jsonPath)")
} catch {
  FileHandle.standardError.write(Data("error: could not write \(jsonPath): \(error)\n".utf8))
  exit(1)
}
