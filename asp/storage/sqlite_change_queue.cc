// SqliteChangeQueue, the queue side: recording (with group commit) and sessions. The
// file side (open, inspect, delete) is in sqlite_change_queue_file.cc.
#include "asp/storage/sqlite_change_queue.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "asp/base/text.h"
#include "asp/storage/change_crc.h"
#include "asp/storage/id_filter.h"
#include "asp/storage/sqlite_change_queue_internal.h"

namespace asp {

using queue_internal::kDelete;
using queue_internal::kNoSession;
using queue_internal::kUpsert;

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
  return group_commit_->commit(changes);
}

absl::Status SqliteChangeQueue::recordAllOrNone(const ChangeSource& next) {
  if (options_.read_only) {
    return absl::FailedPreconditionError(
        absl::StrCat("queue database '", options_.path, "' is opened read-only"));
  }
  if (absl::Status s = flush(); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(db_mu_);
  return inTransaction([&]() -> absl::Status {
    while (true) {
      absl::StatusOr<std::optional<Change>> change = next();
      if (!change.ok()) return change.status();
      if (!change->has_value()) return absl::OkStatus();
      if (absl::Status s = validateChange(**change, options_.limits); !s.ok()) return s;
      if (absl::Status s = applyOne(**change); !s.ok()) return s;
    }
  });
}

absl::Status SqliteChangeQueue::flush() {
  return async_ != nullptr ? async_->flush() : absl::OkStatus();
}

absl::Status SqliteChangeQueue::applyInTransaction(const GroupCommit::NextParts& next) {
  std::lock_guard<std::mutex> lock(db_mu_);
  return inTransaction([&]() -> absl::Status {
    GroupCommit::Parts parts;
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

// The coalescing table of docs/protocol.md §6. `pending` is the row a session would send
// next; `in_flight` the copy a running session is sending (left unchanged).
absl::Status SqliteChangeQueue::applyOne(const Change& change) {
  const bool is_delete = change.operation == Operation::kDelete;
  if (absl::Status s = noteIndex(change.index); !s.ok()) return s;

  struct Row {
    bool present = false;
    int64_t row = 0;
    bool is_delete = false;
    bool is_new = false;
  } pending, in_flight;
  // Only an id the filter may hold can have rows: the others skip the lookup.
  if (!ids_complete_ || ids_->mayContain(change.id)) {
    sqlite::Statement& find = statements_->find;
    find.bindText(1, change.id);
    while (true) {
      absl::StatusOr<bool> has_row = find.step();
      if (!has_row.ok()) {
        find.reset();
        return has_row.status();
      }
      if (!*has_row) break;
      const int64_t number = find.columnInt(0);
      Row& row = inFlight(number, find.columnText(3)) ? in_flight : pending;
      row = Row{true, number, find.columnInt(1) == kDelete, stillNew(number, find.columnInt(2) != 0)};
    }
    find.reset();
  }

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
    if (pending.row <= frozen_.hi && inFlight(pending.row, change.index)) {
      // The row sits below the frozen range's top in an index a clean leaves alone, and
      // the change moves it into the index being cleaned: updated in place, the commit
      // would drop it with the frozen rows. It moves above the range instead.
      statements_->erase.bindInt(1, pending.row);
      if (absl::Status s = statements_->erase.run(); !s.ok()) return s;
      write = &statements_->insert;
    }
  }
  if (write == &statements_->insert) {
    write->bindText(1, change.id);
    write->bindInt(7, next_row_++);
    ids_->add(change.id);
  } else {
    write->bindInt(1, pending.row);
  }
  write->bindText(2, change.index);
  write->bindInt(3, is_delete ? kDelete : kUpsert);
  write->bindBlob(4, change.data);
  write->bindInt(5, static_cast<int64_t>(change.version));
  write->bindInt(6, is_new ? 1 : 0);
  write->bindInt(8, changeCrc(change.id, change.index, is_delete ? kDelete : kUpsert,
                              change.data, change.version));
  return write->run();
}

absl::Status SqliteChangeQueue::noteIndex(const std::string& index) {
  if (known_indices_.contains(index)) return absl::OkStatus();
  for (const std::string& added : indices_added_) {
    if (added == index) return absl::OkStatus();
  }
  statements_->add_index.bindText(1, index);
  if (absl::Status s = statements_->add_index.run(); !s.ok()) return s;
  indices_added_.push_back(index);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> SqliteChangeQueue::indicesWithRows() {
  // Every index with rows is known, so the scan stops at the first row of the last known
  // index to appear: at once in the usual case. Only a known index without rows makes it
  // read the whole table, once: it is forgotten then.
  absl::flat_hash_set<std::string> unseen = known_indices_;
  std::vector<std::string> found;
  sqlite::Statement& scan = statements_->distinct_indices;
  absl::StatusOr<bool> row = true;
  // With nothing known (which a table with rows never has), it reads to the end.
  while (!unseen.empty() || found.empty()) {
    row = scan.step();
    if (!row.ok() || !*row) break;
    std::string index = scan.columnText(0);
    unseen.erase(index);
    found.push_back(std::move(index));
  }
  scan.reset();
  if (!row.ok()) return row.status();
  for (const std::string& stale : unseen) {
    statements_->drop_index.bindText(1, stale);
    if (absl::Status s = statements_->drop_index.run(); !s.ok()) return s;
    known_indices_.erase(stale);  // safe before COMMIT: it has no rows either way
  }
  std::sort(found.begin(), found.end());
  return found;
}

bool SqliteChangeQueue::inFlight(int64_t row, const std::string& index) const {
  return frozen_.active && row <= frozen_.hi && (frozen_.only.empty() || frozen_.only.contains(index));
}

absl::Status SqliteChangeQueue::saveState() {
  sqlite::Statement& set = statements_->set_state;
  set.bindText(1, "frozen_hi");
  set.bindInt(2, frozen_.active ? frozen_.hi : kNoSession);
  if (absl::Status s = set.run(); !s.ok()) return s;
  set.bindText(1, "sent_watermark");
  set.bindInt(2, sent_watermark_);
  if (absl::Status s = set.run(); !s.ok()) return s;
  if (absl::Status s = db_->exec("DELETE FROM frozen_index"); !s.ok()) return s;
  if (frozen_.only.empty()) return absl::OkStatus();
  absl::StatusOr<sqlite::Statement> add = db_->prepare("INSERT INTO frozen_index VALUES (?1)");
  if (!add.ok()) return add.status();
  for (const std::string& index : frozen_.only) {
    add->bindText(1, index);
    if (absl::Status s = add->run(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// Freezing is one statement's worth of work whatever the size of the queue: the rows up
// to the current last one are the session, numbered by rank.
absl::StatusOr<SessionInfo> SqliteChangeQueue::beginSession(
    absl::Span<const std::string> only_indices) {
  if (absl::Status s = flush(); !s.ok()) return s;
  SessionInfo info;
  std::lock_guard<std::mutex> lock(db_mu_);
  if (frozen_.active) {
    return absl::FailedPreconditionError(absl::StrCat(
        "queue database '", options_.path, "' already has a session in flight"));
  }
  Frozen frozen;
  frozen.active = true;
  frozen.only.insert(only_indices.begin(), only_indices.end());
  const Frozen before = frozen_;
  const int64_t watermark_before = sent_watermark_;
  absl::Status status = inTransaction([&]() -> absl::Status {
    absl::StatusOr<int64_t> hi = scalar(statements_->max_row);
    if (!hi.ok()) return hi.status();
    frozen.hi = *hi;
    if (frozen.only.empty()) {
      // Everything: hi is the last row, so the session is the whole table.
      absl::StatusOr<int64_t> size = scalar(statements_->count_all);
      if (!size.ok()) return size.status();
      info.size = static_cast<uint64_t>(*size);
      absl::StatusOr<std::vector<std::string>> indices = indicesWithRows();
      if (!indices.ok()) return indices.status();
      info.indices = *std::move(indices);
    } else {
      const std::string filter = absl::StrCat(
          " AND idx IN (", absl::StrJoin(std::vector<std::string>(only_indices.size(), "?"), ", "),
          ")");
      absl::StatusOr<sqlite::Statement> indices = db_->prepare(absl::StrCat(
          "SELECT idx, count(*) FROM change WHERE row <= ?1", filter, " GROUP BY idx ORDER BY idx"));
      if (!indices.ok()) return indices.status();
      indices->bindInt(1, frozen.hi);
      for (size_t i = 0; i < only_indices.size(); ++i) {
        indices->bindText(static_cast<int>(i + 2), only_indices[i]);
      }
      absl::StatusOr<bool> row;
      while ((row = indices->step()).ok() && *row) {
        info.indices.push_back(indices->columnText(0));
        info.size += static_cast<uint64_t>(indices->columnInt(1));
      }
      if (!row.ok()) return row.status();
    }
    frozen.size = info.size;
    frozen_ = frozen;
    // A DELTA session sends what it froze: none of it is "new" any more. A clean sends none.
    if (frozen.only.empty()) sent_watermark_ = frozen.hi;
    return saveState();
  });
  if (!status.ok()) {
    frozen_ = before;
    sent_watermark_ = watermark_before;
    return status;
  }
  return info;
}

absl::StatusOr<int64_t> SqliteChangeQueue::scalar(sqlite::Statement& statement) {
  absl::StatusOr<bool> row = statement.step();
  const int64_t value = row.ok() && *row ? statement.columnInt(0) : 0;
  statement.reset();
  if (!row.ok()) return row.status();
  return value;
}

absl::StatusOr<int64_t> SqliteChangeQueue::rowOfSeq(uint64_t seq) {
  if (seq == frozen_.next_seq) return frozen_.after_row;
  // Not where streaming left off (a retransmission): count up to it.
  sqlite::Statement& locate = statements_->locate;
  locate.bindInt(1, frozen_.hi);
  locate.bindInt(2, static_cast<int64_t>(seq));
  absl::StatusOr<int64_t> row = scalar(locate);
  if (!row.ok()) return row.status();
  return *row - 1;
}

absl::StatusOr<SessionPage> SqliteChangeQueue::readInFlight(uint64_t first_seq,
                                                            uint64_t last_seq,
                                                            size_t max_bytes) {
  SessionPage page;
  std::lock_guard<std::mutex> lock(db_mu_);
  if (statements_ == nullptr) return absl::FailedPreconditionError("queue database is not writable");
  if (!frozen_.active || first_seq >= frozen_.size || first_seq > last_seq) return page;
  // Seqs rank the rows of every frozen index; a clean's filter is skipped over here.
  const bool filtered = !frozen_.only.empty();
  int64_t after = 0;
  uint64_t seq = 0;
  if (!filtered) {
    absl::StatusOr<int64_t> start = rowOfSeq(first_seq);
    if (!start.ok()) return start.status();
    after = *start;
    seq = first_seq;
  }
  sqlite::Statement& read = statements_->read_after;
  read.bindInt(1, after);
  read.bindInt(2, frozen_.hi);
  absl::StatusOr<bool> row;
  int64_t last_row = after;
  while (seq <= last_seq && page.data_bytes < max_bytes && (row = read.step()).ok() && *row) {
    SessionChange change;
    change.index = read.columnText(2);
    if (filtered && !frozen_.only.contains(change.index)) continue;
    if (seq++ < first_seq) continue;
    last_row = read.columnInt(0);
    if (std::string why = damage(read); !why.empty()) {
      const std::string id = read.columnText(1);
      read.reset();
      // One failed session for all of them: the rest of the session is checked now.
      const size_t others = noteDamagedFrom(last_row);
      return absl::DataLossError(absl::StrCat(
          "queue database '", options_.path, "': change id ", quoteValue(id), " cannot be sent (",
          why, ")", others > 1 ? absl::StrCat(", nor ", others - 1, " more") : "",
          "; set aside in quarantine, the next session sends the rest"));
    }
    change.seq = seq - 1;
    change.id = read.columnText(1);
    change.is_delete = read.columnInt(3) == kDelete;
    change.data = read.columnBlob(4);
    change.version = static_cast<uint64_t>(read.columnInt(5));
    page.data_bytes += change.id.size() + change.index.size() + change.data.size();
    page.changes.push_back(std::move(change));
  }
  read.reset();
  if (!row.ok()) return row.status();
  if (!filtered && !page.changes.empty()) {
    frozen_.next_seq = page.changes.back().seq + 1;
    frozen_.after_row = last_row;
  }
  return page;
}

absl::Status SqliteChangeQueue::commitSession() {
  std::lock_guard<std::mutex> lock(db_mu_);
  if (!frozen_.active) return absl::OkStatus();
  const Frozen before = frozen_;
  bool emptied = false;
  absl::Status status = inTransaction([&]() -> absl::Status {
    if (!frozen_.only.empty()) {
      std::vector<std::string> only(frozen_.only.begin(), frozen_.only.end());
      absl::StatusOr<sqlite::Statement> drop = db_->prepare(absl::StrCat(
          "DELETE FROM change WHERE row <= ?1 AND idx IN (",
          absl::StrJoin(std::vector<std::string>(only.size(), "?"), ", "), ")"));
      if (!drop.ok()) return drop.status();
      drop->bindInt(1, frozen_.hi);
      for (size_t i = 0; i < only.size(); ++i) drop->bindText(static_cast<int>(i + 2), only[i]);
      if (absl::Status s = drop->run(); !s.ok()) return s;
    } else {
      statements_->rows_after.bindInt(1, frozen_.hi);
      absl::StatusOr<int64_t> later = scalar(statements_->rows_after);
      if (!later.ok()) return later.status();
      // Nothing recorded meanwhile: emptying the table is much cheaper than deleting rows.
      sqlite::Statement& drop = *later != 0 ? statements_->delete_upto : statements_->delete_all;
      if (*later != 0) drop.bindInt(1, frozen_.hi);
      if (absl::Status s = drop.run(); !s.ok()) return s;
      emptied = *later == 0;
      if (emptied) {
        if (absl::Status s = statements_->clear_indices.run(); !s.ok()) return s;
      }
    }
    if (absl::Status s = quarantineDamaged(); !s.ok()) return s;
    frozen_ = Frozen{};
    return saveState();
  });
  if (!status.ok()) frozen_ = before;
  if (status.ok()) damaged_.clear();
  // Forgotten only once durable: a known index must have its queue_index row.
  if (status.ok() && emptied) {
    known_indices_.clear();
    ids_->clear();
    ids_complete_ = true;
  }
  return status;
}

size_t SqliteChangeQueue::noteDamagedFrom(int64_t first_row) {
  sqlite::Statement& scan = statements_->read_after;
  scan.bindInt(1, first_row - 1);
  scan.bindInt(2, frozen_.hi);
  absl::StatusOr<bool> row;
  size_t found = 0;
  while ((row = scan.step()).ok() && *row) {
    if (!frozen_.only.empty() && !frozen_.only.contains(scan.columnText(2))) continue;
    std::string why = damage(scan);
    if (why.empty()) continue;
    damaged_.emplace_back(scan.columnInt(0), std::move(why));
    ++found;
  }
  scan.reset();
  return found;
}

std::string SqliteChangeQueue::damage(const sqlite::Statement& row) {
  // Columns of read_after: row, id, idx, op, data, version, crc.
  const std::string id = row.columnText(1);
  const std::string index = row.columnText(2);
  const std::string data = row.columnBlob(4);
  const uint32_t crc = changeCrc(id, index, row.columnInt(3), data,
                                 static_cast<uint64_t>(row.columnInt(5)));
  if (static_cast<int64_t>(crc) != row.columnInt(6)) return "damaged on disk: checksum mismatch";
  if (firstInvalidUtf8(id).has_value() || firstInvalidUtf8(index).has_value()) {
    return "its id or index is not valid UTF-8";
  }
  return "";
}

absl::Status SqliteChangeQueue::quarantineDamaged() {
  for (const auto& [row, reason] : damaged_) {
    statements_->quarantine.bindInt(1, row);
    statements_->quarantine.bindText(2, reason);
    if (absl::Status s = statements_->quarantine.run(); !s.ok()) return s;
    statements_->erase_row.bindInt(1, row);
    if (absl::Status s = statements_->erase_row.run(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status SqliteChangeQueue::unfreeze() {
  // First: a damaged row leaves, and what was recorded for its id meanwhile stays pending.
  if (absl::Status s = quarantineDamaged(); !s.ok()) return s;
  for (sqlite::Statement* merge : {&statements_->merge_update, &statements_->merge_delete}) {
    merge->bindInt(1, frozen_.hi);
    if (absl::Status s = merge->run(); !s.ok()) return s;
  }
  frozen_ = Frozen{};
  return saveState();
}

absl::Status SqliteChangeQueue::abortSession() {
  std::lock_guard<std::mutex> lock(db_mu_);
  if (!frozen_.active) return absl::OkStatus();
  const Frozen before = frozen_;
  absl::Status status = inTransaction([this] { return unfreeze(); });
  if (!status.ok()) frozen_ = before;
  if (status.ok()) damaged_.clear();
  return status;
}

}  // namespace asp
