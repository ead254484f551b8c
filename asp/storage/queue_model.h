// QueueModel: the coalescing rules of docs/protocol.md §6, written independently of
// the implementation: the oracle of the crash and power-loss tests, which compare what
// a reopened queue holds with what the model says the acknowledged recordings leave.
#ifndef ASP_STORAGE_QUEUE_MODEL_H_
#define ASP_STORAGE_QUEUE_MODEL_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "asp/storage/queue_test_util.h"

namespace asp::testing {

// The i-th change of a deterministic stream over 40 ids in 3 indices: creates,
// modifies and deletes, so coalescing and cancellation both happen. Ids and indices
// start with `prefix` (writers with distinct prefixes touch distinct ids).
inline Change streamChange(uint64_t i, const std::string& prefix = "") {
  const uint64_t h = (i * 0x9E3779B97F4A7C15ull) >> 32;
  static const Operation kOps[] = {Operation::kCreate, Operation::kModify, Operation::kDelete};
  return Change{prefix + "file-" + std::to_string(h % 40), prefix + "idx-" + std::to_string(h % 3),
                kOps[(h >> 8) % 3], "v" + std::to_string(i), i};
}

class QueueModel {
 public:
  struct Entry {
    bool is_delete;
    bool is_new;
    std::string index, data;
    uint64_t version;
  };

  void record(const Change& c) {
    const bool del = c.operation == Operation::kDelete;
    auto p = pending_.find(c.id);
    if (p == pending_.end()) {
      auto f = in_flight_.find(c.id);
      const bool is_new =
          c.operation == Operation::kCreate && (f == in_flight_.end() || f->second.is_delete);
      pending_[c.id] = Entry{del, is_new, c.index, c.data, c.version};
      return;
    }
    Entry& e = p->second;
    if (del && !e.is_delete && e.is_new) {
      pending_.erase(p);
      return;
    }
    e = Entry{del, !del && !e.is_delete && e.is_new, c.index, c.data, c.version};
  }
  void record(const std::vector<Change>& changes) {
    for (const Change& c : changes) record(c);
  }
  void begin() {
    in_flight_ = std::move(pending_);
    pending_.clear();
  }
  // Abort / crash recovery: in flight comes back, merged, no longer new.
  void recover() {
    for (auto& [id, e] : in_flight_) {
      auto p = pending_.find(id);
      Entry merged = p != pending_.end() ? p->second : e;
      merged.is_new = false;
      pending_[id] = merged;
    }
    in_flight_.clear();
  }
  void forgetNew() {
    for (auto& [id, e] : pending_) e.is_new = false;
  }
  const std::map<std::string, Entry>& pending() const { return pending_; }

  // Whether `actual` (what a session would send, all of it) is exactly pending().
  bool matches(const std::vector<SessionChange>& actual) const {
    if (pending_.size() != actual.size()) return false;
    for (const SessionChange& c : actual) {
      auto it = pending_.find(c.id);
      if (it == pending_.end()) return false;
      const Entry& e = it->second;
      if (e.is_delete != c.is_delete || e.data != c.data || e.version != c.version ||
          e.index != c.index) {
        return false;
      }
    }
    return true;
  }

 private:
  std::map<std::string, Entry> pending_, in_flight_;
};

// What `path` holds once reopened (which recovers what a crash left in flight), read
// as a session would send it. The session is aborted, so nothing in it is new any
// more (QueueModel::forgetNew()). Empty, with a test failure, when it cannot be opened.
inline std::vector<SessionChange> queuedAfterReopen(const std::string& path) {
  std::unique_ptr<SqliteChangeQueue> queue = openQueue(path);
  if (queue == nullptr) return {};
  std::vector<SessionChange> queued = beginAndReadAll(*queue);
  EXPECT_TRUE(queue->abortSession().ok());
  return queued;
}

}  // namespace asp::testing

#endif  // ASP_STORAGE_QUEUE_MODEL_H_
