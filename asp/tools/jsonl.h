// aspctl's JSON-lines format: one change per line, the same shape in every direction.
// `dump` prints it; `persist`, `sync --mode full`, `checksum` read it; `manager-copy`
// prints the manager's documents in it. So `aspctl dump ... | aspctl persist ...` works.
//
//   {"id":"/etc/hosts","index":"states-fim-files","operation":"modify","version":2,"data":"..."}
//
// - id, index, operation: required strings; operation is create, modify or delete.
// - version: a JSON number, a whole number from 0 to 2^64-1 (default 0).
// - data: text (default ""); "dataBase64" replaces it for bytes that are not UTF-8.
// - state ("pending" or "in_flight") and seq (in flight only): printed by `dump`,
//   accepted and ignored by readers (a change read in is always recorded as pending).
// Anything else is an error naming the line: a key that is unknown or appears twice, a
// value of the wrong type, more than one JSON value on the line. Blank lines are skipped.
// The format is parsed with nlohmann/json's SAX parser (exact uint64, strict UTF-8).
#ifndef ASP_TOOLS_JSONL_H_
#define ASP_TOOLS_JSONL_H_

#include <cstdint>
#include <istream>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "asp/storage/change.h"
#include "asp/storage/sqlite_change_queue.h"

namespace asp::tools {

// Longest line read: a change fits one 64 KiB datagram, and JSON escaping can make its
// data up to six times longer.
inline constexpr size_t kMaxLineBytes = 1 << 20;

// One line, without its line number: InvalidArgument saying what is wrong.
absl::StatusOr<Change> parseChangeLine(absl::string_view line);

// Reads change lines one at a time from a stream, in bounded memory.
class ChangeLineReader {
 public:
  explicit ChangeLineReader(std::istream& in) : in_(in) {}

  // The next change, std::nullopt after the last line, or InvalidArgument starting
  // "line N: " (also for a line longer than kMaxLineBytes).
  absl::StatusOr<std::optional<Change>> next();

  // The number of the line last read (1-based; 0 before the first).
  int64_t lineNumber() const { return line_number_; }

 private:
  // Reads one line into line_; false at the end of the stream. InvalidArgument for a
  // line longer than kMaxLineBytes.
  absl::StatusOr<bool> readLine();

  std::istream& in_;
  std::string line_;
  int64_t line_number_ = 0;
};

// A change as one line: operation as given, "data" when UTF-8 else "dataBase64".
// InvalidArgument when the id or index is not UTF-8 (JSON cannot carry it).
absl::StatusOr<std::string> formatChangeLine(const Change& change);

// A queued change as `dump` prints it: a pending upsert that the manager has never seen
// is "create", any other upsert "modify"; plus "state" and, in flight, "seq".
absl::StatusOr<std::string> formatDumpLine(const SqliteChangeQueue::StoredChange& change);

}  // namespace asp::tools

#endif  // ASP_TOOLS_JSONL_H_
