import Foundation

// `swift run Playground` lists the lessons; `swift run Playground 3` runs lesson 3;
// `swift run Playground all` runs them all. `--output DIR` writes the lessons' pictures (SVG)
// into DIR. Every lesson checks each claim it makes and the program exits 1 if any fails.

var arguments = Array(CommandLine.arguments.dropFirst())
var output: URL?
if let flag = arguments.firstIndex(of: "--output") {
  guard flag + 1 < arguments.count else {
    FileHandle.standardError.write(Data("error: --output needs a folder\n".utf8))
    exit(2)
  }
  output = URL(fileURLWithPath: arguments[flag + 1], isDirectory: true)
  arguments.removeSubrange(flag...(flag + 1))
}

guard let choice = arguments.first else {
  print(
    "Backprop lessons. Run one with `swift run Playground N`, or all with `swift run Playground all`."
  )
  print("Add `--output DIR` to write the pictures (SVG) into DIR.\n")
  for lesson in lessons { print("  \(lesson.number). \(lesson.title)") }
  exit(0)
}

let chosen: [LessonDefinition]
if choice == "all" {
  chosen = lessons
} else if let number = Int(choice), let lesson = lessons.first(where: { $0.number == number }) {
  chosen = [lesson]
} else {
  FileHandle.standardError.write(
    Data("error: no lesson '\(choice)'; choose 1–\(lessons.count) or all\n".utf8))
  exit(2)
}
if let output {
  try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
}

var failures = 0
for definition in chosen {
  var lesson = Lesson(number: definition.number, title: definition.title, output: output)
  lesson.heading()
  definition.run(&lesson)
  failures += lesson.failures
  print()
}
if failures > 0 {
  print("\(failures) claim(s) FAILED")
  exit(1)
}
print(
  "Every claim checked: \(chosen.count == 1 ? "lesson \(chosen[0].number)" : "all \(chosen.count) lessons") passed."
)
