// SqliteChangeQueue, the queue side: recording (with group commit) and sessions. The
// file side (open, inspect, delete) is in sqlite_change_queue_file.cc.
#include "asp/storage/sqlite_change_queue.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "asp/storage/sqlite_change_queue_internal.h"

namespace asp {

using queue_internal::kDelete;
using queue_internal::kRecoverInFlight;
using queue_internal::kUpsert;

namespace {

// A group commit takes at most this many changes from the writers waiting.
constexpr size_t kMaxGroupChanges = 8192;

}  // namespace

struct SqliteChangeQueue::Writer {
  absl::Span<const Change> changes;
  absl::Status status;
  bool done = false;
};

absl::Status SqliteChangeQueue::validateAll(absl::Span<const Change> changes) const {
  for (const Change& change : changes) {
    if (absl::Status s = validateChange(change, options_.limits); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status SqliteChangeQueue::record(const Change& change) {
  return recordBatch(absl::MakeConstSpan(&change, 1));
}

absl::Status SqliteChangeQueue::recordBatch(absl::Span<const Change> changes) {
  if (options_.read_only) {
    return absl::FailedPreconditionError(
        absl::StrCat("queue database '", options_.path, "' is opened read-only"));
  }
  if (changes.empty()) return absl::OkStatus();
  if (absl::Status s = validateAll(changes); !s.ok()) return s;
  if (async_ != nullptr) return async_->add(std::vector<Change>(changes.begin(), changes.end()));
  return commitShared(changes);
}

absl::Status SqliteChangeQueue::flush() {
  return async_ != nullptr ? async_->flush() : absl::OkStatus();
}

absl::Status SqliteChangeQueue::commitShared(absl::Span<const Change> changes) {
  Writer self{changes, absl::OkStatus(), false};
  std::unique_lock<std::mutex> lock(writers_mu_);
  writers_.push_back(&self);
  writers_cv_.wait(lock, [&] { return self.done || writers_.front() == &self; });
  if (self.done) return self.status;

  // Leader: commit for everyone queued behind us, in their order, and for those who
  // queue up while our transaction is still open.
  size_t group = 0, total = 0;
  auto join = [&](std::vector<absl::Span<const Change>>* parts) {
    std::lock_guard<std::mutex> guard(writers_mu_);
    const size_t before = group;
    for (size_t i = group; i < writers_.size(); ++i) {
      const absl::Span<const Change> more = writers_[i]->changes;
      if (group > 0 && total + more.size() > kMaxGroupChanges) break;
      parts->push_back(more);
      total += more.size();
      ++group;
    }
    return group > before;
  };
  lock.unlock();
  const absl::Status status = applyInTransaction(join);
  lock.lock();
  for (size_t i = 0; i < group; ++i) {
    Writer* writer = writers_.front();
    writers_.pop_front();
    writer->status = status;
    writer->done = true;
  }
  writers_cv_.notify_all();
  return status;
}

absl::Status SqliteChangeQueue::applyInTransaction(const NextParts& next) {
  std::lock_guard<std::mutex> lock(db_mu_);
  return inTransaction([&]() -> absl::Status {
    std::vector<absl::Span<const Change>> parts;
    while (next(&parts)) {
      for (absl::Span<const Change> part : parts) {
        for (const Change& change : part) {
          if (absl::Status s = applyOne(change); !s.ok()) return s;
        }
      }
      parts.clear();
    }
    return absl::OkStatus();
  });
}

// The coalescing table of PROTOCOL.md §6. `pending` is the row a session would send
// next; `in_flight` the copy a running session is sending (left unchanged).
absl::Status SqliteChangeQueue::applyOne(const Change& change) {
  struct Row {
    bool present = false;
    int64_t row = 0;
    bool is_delete = false;
    bool is_new = false;
  } pending, in_flight;
  sqlite::Statement& find = statements_->find;
  find.bindText(1, change.id);
  while (true) {
    absl::StatusOr<bool> has_row = find.step();
    if (!has_row.ok()) {
      find.reset();
      return has_row.status();
    }
    if (!*has_row) break;
    Row& row = find.columnInt(3) != 0 ? in_flight : pending;
    row = Row{true, find.columnInt(0), find.columnInt(1) == kDelete, find.columnInt(2) != 0};
  }
  find.reset();

  const bool is_delete = change.operation == Operation::kDelete;
  bool is_new = false;
  sqlite::Statement* write = nullptr;
  if (!pending.present) {
    // Nothing queued. A create is new unless a copy in flight may reach the manager.
    is_new = change.operation == Operation::kCreate && (!in_flight.present || in_flight.is_delete);
    write = &statements_->insert;
  } else if (is_delete && !pending.is_delete && pending.is_new) {
    // Created and deleted before the manager could see it: nothing to send.
    statements_->erase.bindInt(1, pending.row);
    return statements_->erase.run();
  } else {
    is_new = !is_delete && !pending.is_delete && pending.is_new;
    write = &statements_->update;
  }
  if (write == &statements_->insert) {
    write->bindText(1, change.id);
  } else {
    write->bindInt(1, pending.row);
  }
  write->bindText(2, change.index);
  write->bindInt(3, is_delete ? kDelete : kUpsert);
  write->bindBlob(4, change.data);
  write->bindInt(5, static_cast<int64_t>(change.version));
  write->bindInt(6, is_new ? 1 : 0);
  return write->run();
}

absl::StatusOr<SessionInfo> SqliteChangeQueue::beginSession(
    absl::Span<const std::string> only_indices) {
  if (absl::Status s = flush(); !s.ok()) return s;
  std::string filter;
  if (!only_indices.empty()) {
    filter = absl::StrCat(" AND idx IN (",
                          absl::StrJoin(std::vector<std::string>(only_indices.size(), "?"), ", "),
                          ")");
  }
  const std::string mark = absl::StrCat(
      "UPDATE change SET seq = n.rn - 1 FROM (SELECT row AS r, row_number() OVER "
      "(ORDER BY row) AS rn FROM change WHERE seq IS NULL",
      filter, ") AS n WHERE change.row = n.r");
  SessionInfo info;
  std::lock_guard<std::mutex> lock(db_mu_);
  absl::Status status = inTransaction([&]() -> absl::Status {
    absl::StatusOr<bool> row = statements_->in_flight_exists.step();
    const bool busy = row.ok() && statements_->in_flight_exists.columnInt(0) != 0;
    statements_->in_flight_exists.reset();
    if (!row.ok()) return row.status();
    if (busy) {
      return absl::FailedPreconditionError(absl::StrCat(
          "queue database '", options_.path, "' already has a session in flight"));
    }
    absl::StatusOr<sqlite::Statement> update = db_->prepare(mark);
    if (!update.ok()) return update.status();
    for (size_t i = 0; i < only_indices.size(); ++i) {
      update->bindText(static_cast<int>(i + 1), only_indices[i]);
    }
    if (absl::Status s = update->run(); !s.ok()) return s;
    info.size = static_cast<uint64_t>(db_->changes());
    sqlite::Statement& indices = statements_->in_flight_indices;
    absl::StatusOr<bool> next;
    while ((next = indices.step()).ok() && *next) info.indices.push_back(indices.columnText(0));
    indices.reset();
    return next.status();
  });
  if (!status.ok()) return status;
  return info;
}

absl::StatusOr<SessionPage> SqliteChangeQueue::readInFlight(uint64_t first_seq,
                                                            uint64_t last_seq,
                                                            size_t max_bytes) {
  SessionPage page;
  std::lock_guard<std::mutex> lock(db_mu_);
  if (statements_ == nullptr) return absl::FailedPreconditionError("queue database is not writable");
  sqlite::Statement& read = statements_->read_in_flight;
  read.bindInt(1, static_cast<int64_t>(first_seq));
  read.bindInt(2, static_cast<int64_t>(std::min<uint64_t>(last_seq, INT64_MAX)));
  absl::StatusOr<bool> row;
  while (page.data_bytes < max_bytes && (row = read.step()).ok() && *row) {
    SessionChange change;
    change.seq = static_cast<uint64_t>(read.columnInt(0));
    change.id = read.columnText(1);
    change.index = read.columnText(2);
    change.is_delete = read.columnInt(3) == kDelete;
    change.data = read.columnBlob(4);
    change.version = static_cast<uint64_t>(read.columnInt(5));
    page.data_bytes += change.id.size() + change.index.size() + change.data.size();
    page.changes.push_back(std::move(change));
  }
  read.reset();
  if (!row.ok()) return row.status();
  return page;
}

absl::Status SqliteChangeQueue::commitSession() {
  std::lock_guard<std::mutex> lock(db_mu_);
  return inTransaction([this] { return statements_->commit_session.run(); });
}

absl::Status SqliteChangeQueue::abortSession() {
  std::lock_guard<std::mutex> lock(db_mu_);
  return inTransaction([this] { return db_->exec(kRecoverInFlight); });
}

}  // namespace asp
