// The vocabulary of the change queue: what a module records and what a session sends.
//
// A module records a Change (docs/protocol.md §2): an `id` (document key, unique per queue),
// the `index` (collection) it belongs to, the Operation, opaque `data` bytes and a
// `version`. Queues coalesce changes per id (§6) into at most one pending change; a
// session reads them back as SessionChange, numbered by `seq`.
#ifndef ASP_STORAGE_CHANGE_H_
#define ASP_STORAGE_CHANGE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "asp/proto/limits.h"

namespace asp {

// What happened to a document, as the module saw it.
enum class Operation { kCreate = 0, kModify = 1, kDelete = 2 };

// "create", "modify", "delete", or "operation(<n>)" for a value out of range.
std::string operationName(Operation operation);

struct Change {
  std::string id;
  std::string index;
  Operation operation = Operation::kCreate;
  std::string data;
  uint64_t version = 0;
};

// A change as a session sends it: the net effect, numbered in its session.
struct SessionChange {
  uint64_t seq = 0;
  std::string id;
  std::string index;
  bool is_delete = false;  // else an upsert
  std::string data;
  uint64_t version = 0;
};

// The same, as SessionSource::visitInFlight shows it: views of the source's storage,
// valid only during the visit.
struct SessionChangeView {
  uint64_t seq = 0;
  absl::string_view id;
  absl::string_view index;
  bool is_delete = false;
  absl::string_view data;
  uint64_t version = 0;
};

// A view of `change` (valid while it lives), and a change owning a copy of `view`.
inline SessionChangeView viewOf(const SessionChange& change) {
  return SessionChangeView{change.seq,       change.id,   change.index,
                           change.is_delete, change.data, change.version};
}
inline SessionChange ownedCopy(const SessionChangeView& view) {
  return SessionChange{view.seq,       std::string(view.id),   std::string(view.index),
                       view.is_delete, std::string(view.data), view.version};
}

// How large a change may be: it must fit, alone, in one datagram of at most
// `frame_budget_bytes`, header "s:<module>:" included.
struct ChangeLimits {
  size_t frame_budget_bytes = wire::kDefaultFrameBudgetBytes;
  // Bytes of the datagram header. Defaults to the longest module name allowed.
  size_t header_bytes = wire::kMaxModuleNameBytes + 3;

  // Limits for a module of the given name (its header length) and budget.
  static ChangeLimits forModule(absl::string_view module, size_t frame_budget_bytes);
};

// OK, or InvalidArgument naming the change and the offending value: empty id or index,
// an operation out of range, or a change whose one-value frame would exceed the budget.
absl::Status validateChange(const Change& change, const ChangeLimits& limits);

}  // namespace asp

#endif  // ASP_STORAGE_CHANGE_H_
