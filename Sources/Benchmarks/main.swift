import Foundation

// Benchmarks: `swift run -c release Benchmarks [--quick] [--json PATH]`.
// Every figure is a ratio against a baseline timed in this process, in this run.

var settings = Settings()
var jsonPath = ".build/benchmarks.json"
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
  switch argument {
  case "--quick": settings.quick = true
  case "--json":
    guard let path = arguments.popFirst() else {
      FileHandle.standardError.write(Data("error: --json needs a path\n".utf8))
      exit(2)
    }
    jsonPath = path
  default:
    FileHandle.standardError.write(
      Data("error: unknown argument '\(argument)'; use --quick or --json PATH\n".utf8))
    exit(2)
  }
}

var rows: [Row] = []
for workload in [
  scalarChain, crossEntropyGradient, softmaxJacobianWorkload, classifierStep, elementwise, memory,
] {
  let new = workload(settings)
  rows += new
  for row in new {
    let ratio = row.baseline == "—" ? "" : String(format: "%.2f×", row.ratio)
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
  "quick": settings.quick, "repeats": settings.repeats, "rows": records,
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
