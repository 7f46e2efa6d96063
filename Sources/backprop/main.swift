import BackpropCommand
import Foundation

// The `backprop` command: everything happens in BackpropCommand, which the tests drive directly;
// this file only connects it to the process.
let result = runCommand(Array(CommandLine.arguments.dropFirst())) {
  String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
}
FileHandle.standardOutput.write(Data(result.output.utf8))
FileHandle.standardError.write(Data(result.errors.utf8))
exit(result.status)
