// Checksums of docs/protocol.md §5.1, computed identically by agent and manager.
//
// A document's checksum is the lowercase hex SHA-1 of its `data`. An index checksum
// is the lowercase hex SHA-1 of the concatenation of its documents' checksums sorted
// in ascending order (so it does not depend on ids or on the order documents were
// recorded). An empty index has the SHA-1 of the empty string.
//
// IndexChecksum accumulates document checksums without keeping documents; it keeps
// the 40-byte checksums (to sort them), so memory grows with the document count.
// OrderedIndexChecksum takes them already in ascending order (a database's ordered
// read) and keeps only the last one: constant memory.
// Thread-safety: functions are pure; an IndexChecksum is used by one thread.
#ifndef ASP_BASE_CHECKSUM_H_
#define ASP_BASE_CHECKSUM_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace asp {

// Lowercase hex SHA-1 of `data` (40 characters).
std::string sha1Hex(absl::string_view data);

// The checksum of one document.
inline std::string documentChecksum(absl::string_view data) { return sha1Hex(data); }

// True when `checksum` is 40 lowercase hex digits.
bool isChecksum(absl::string_view checksum);

class IndexChecksum {
 public:
  void addDocument(absl::string_view data) { checksums_.push_back(documentChecksum(data)); }
  void addDocumentChecksum(std::string checksum) { checksums_.push_back(std::move(checksum)); }
  // The index checksum of everything added so far.
  std::string finish();

 private:
  std::vector<std::string> checksums_;
};

// The same index checksum from document checksums given in ascending order.
class OrderedIndexChecksum {
 public:
  OrderedIndexChecksum();
  ~OrderedIndexChecksum();
  // InvalidArgument when `checksum` is not a checksum or sorts before the previous one
  // (a reader whose order is not bytewise would otherwise give a wrong answer).
  absl::Status add(absl::string_view checksum);
  std::string finish();

 private:
  struct Digest;
  std::unique_ptr<Digest> digest_;
  std::string last_;
};

}  // namespace asp

#endif  // ASP_BASE_CHECKSUM_H_
