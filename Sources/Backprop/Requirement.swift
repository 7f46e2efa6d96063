// Programmer errors: conditions a caller must meet (shapes that broadcast, a scalar result,
// variables from one tape). Each failure stops the program with a message naming the operation
// and the shapes, in every build.
//
// Swift's `precondition` keeps its check under -O but drops its message: a release build then
// prints only "Swift runtime failure: precondition failure", and the user of a library is
// usually in a release build. `fatalError` keeps its message under -O, so every check in
// Backprop goes through these two functions instead.

/// Stops the program with `message` unless `condition` holds, in debug and release builds
/// alike (only `-Ounchecked` removes the check).
///
/// - Parameters:
///   - condition: what the caller must guarantee.
///   - message: the operation, what was wrong, and the shapes involved, as in
///     `add: shapes [3] and [4] do not broadcast`; built only on failure.
@inline(__always)
func require(
  _ condition: Bool, _ message: @autoclosure () -> String,
  file: StaticString = #fileID, line: UInt = #line
) {
  if _slowPath(!condition) { fail(message(), file: file, line: line) }
}

/// Stops the program with `message`, in debug and release builds alike.
@inline(never)
func fail(
  _ message: String, file: StaticString = #fileID, line: UInt = #line
) -> Never {
  fatalError(message, file: file, line: line)
}
