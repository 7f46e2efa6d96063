import BackpropCommand
import Foundation

// The `backprop` command: everything happens in BackpropCommand, which the tests drive directly;
// this file only connects it to the process.
let result = runCommand(Array(CommandLine.arguments.dropFirst())) {
  // At most one byte past the command's limit is read, so a huge standard input costs no more
  // memory than a valid one; the command then reports it as too long.
  var data = Data()
  let limit = maximumExpressionBytes + 1
  while data.count < limit {
    let chunk = FileHandle.standardInput.readData(ofLength: limit - data.count)
    if chunk.isEmpty { break }
    data.append(chunk)
  }
  return String(decoding: data, as: UTF8.self)
}
FileHandle.standardOutput.write(Data(result.output.utf8))
FileHandle.standardError.write(Data(result.errors.utf8))
exit(result.status)
