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

// The op values, and the statements' parameters and columns, named beside their SQL.
using namespace queue_internal;  // NOLINT(build/namespaces): internal names of this class

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

// The rows an id has now: at most one pending (what a session would send next) and one
// in flight (the copy a running session is sending). Requires db_mu_.
absl::StatusOr<SqliteChangeQueue::IdRows> SqliteChangeQueue::rowsOf(const std::string& id) {
  IdRows rows;
  // Only an id the filter may hold can have rows: the others skip the lookup.
  if (ids_complete_ && !ids_->mayContain(id)) return rows;
  sqlite::Statement& find = statements_->find;
  find.bindText(1, id);
  absl::StatusOr<bool> has_row;
  while ((has_row = find.step()).ok() && *has_row) {
    const int64_t number = find.columnInt(kFindRow);
    StoredRow& row = inFlight(number, find.columnText(kFindIndex)) ? rows.in_flight : rows.pending;
    row = StoredRow{true, number, find.columnInt(kFindOp) == kDelete,
                    stillNew(number, find.columnInt(kFindIsNew) != 0)};
  }
  find.reset();
  if (!has_row.ok()) return has_row.status();
  return rows;
}

// The coalescing table of docs/protocol.md §6: what recording `change` does to the rows
// its id has. The in-flight copy is never touched.
absl::Status SqliteChangeQueue::applyOne(const Change& change) {
  if (absl::Status s = noteIndex(change.index); !s.ok()) return s;
  absl::StatusOr<IdRows> rows = rowsOf(change.id);
  if (!rows.ok()) return rows.status();
  const StoredRow& pending = rows->pending;
  const StoredRow& in_flight = rows->in_flight;
  const bool is_delete = change.operation == Operation::kDelete;
  if (!pending.present) {
    // Nothing queued. A create is new unless a copy in flight may reach the manager.
    const bool is_new =
        change.operation == Operation::kCreate && (!in_flight.present || in_flight.is_delete);
    return insertRow(change, is_new);
  }
  if (is_delete && !pending.is_delete && pending.is_new) {
    // Created and deleted before the manager could see it: nothing to send.
    statements_->erase.bindInt(1, pending.row);
    return statements_->erase.run();
  }
  const bool is_new = !is_delete && !pending.is_delete && pending.is_new;
  if (pending.row <= frozen_.hi && inFlight(pending.row, change.index)) {
    // The row sits below the frozen range's top in an index a clean leaves alone, and the
    // change moves it into the index being cleaned: updated in place, the commit would
    // drop it with the frozen rows. It moves above the range instead.
    statements_->erase.bindInt(1, pending.row);
    if (absl::Status s = statements_->erase.run(); !s.ok()) return s;
    return insertRow(change, is_new);
  }
  sqlite::Statement& update = statements_->update;
  update.bindInt(kKeyParam, pending.row);
  bindContent(update, change, is_new);
  return update.run();
}

absl::Status SqliteChangeQueue::insertRow(const Change& change, bool is_new) {
  sqlite::Statement& insert = statements_->insert;
  insert.bindText(kKeyParam, change.id);
  insert.bindInt(kRowParam, next_row_++);
  bindContent(insert, change, is_new);
  ids_->add(change.id);
  return insert.run();
}

void SqliteChangeQueue::bindContent(sqlite::Statement& write, const Change& change, bool is_new) {
  const int64_t op = change.operation == Operation::kDelete ? kDelete : kUpsert;
  write.bindText(kIndexParam, change.index);
  write.bindInt(kOpParam, op);
  write.bindBlob(kDataParam, change.data);
  write.bindInt(kVersionParam, static_cast<int64_t>(change.version));
  write.bindInt(kIsNewParam, is_new ? 1 : 0);
  write.bindInt(kCrcParam, changeCrc(change.id, change.index, op, change.data, change.version));
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
  return frozen_.active && row <= frozen_.hi &&
         (frozen_.only.empty() || frozen_.only.contains(index));
}

absl::Status SqliteChangeQueue::saveState() {
  sqlite::Statement& set = statements_->set_state;
  set.bindText(1, "frozen_hi");
  set.bindInt(2, frozen_.active ? frozen_.hi : kNoSession);
  if (absl::Status s = set.run(); !s.ok()) return s;
  for (const auto& [key, value] :
       {std::pair<const char*, int64_t>{"sent_watermark", sent_watermark_},
        {"confirmed_hi", confirmed_hi_},
        {"dead_rows", dead_rows_}}) {
    set.bindText(1, key);
    set.bindInt(2, value);
    if (absl::Status s = set.run(); !s.ok()) return s;
  }
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

absl::StatusOr<int64_t> SqliteChangeQueue::recordedMark() {
  if (absl::Status s = flush(); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(db_mu_);
  return next_row_ - 1;
}

// Freezing an unbounded session is one statement's worth of work whatever the size of
// the queue: the rows up to the current last one are the session, numbered by rank. So
// is a bounded one when the whole table is known to fit its bounds; otherwise it reads
// the rows it takes (their sizes, not their data).
absl::StatusOr<SessionInfo> SqliteChangeQueue::beginSession(const SessionScope& scope) {
  if (!scope.only_indices.empty() &&
      (scope.max_changes != 0 || scope.max_bytes != 0 || scope.up_to_mark.has_value())) {
    return absl::InvalidArgumentError("a session of some indices (a clean) takes no bounds");
  }
  if (absl::Status s = flush(); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(db_mu_);
  if (frozen_.active) {
    return absl::FailedPreconditionError(
        absl::StrCat("queue database '", options_.path, "' already has a session in flight"));
  }
  SessionInfo info;
  SessionStateGuard guard(this);
  absl::Status status = guard.keepIf(inTransaction([&]() -> absl::Status {
    Frozen frozen;
    frozen.active = true;
    frozen.only.insert(scope.only_indices.begin(), scope.only_indices.end());
    absl::Status counted;
    if (!frozen.only.empty()) {
      absl::StatusOr<int64_t> hi = scalar(statements_->max_row);
      if (!hi.ok()) return hi.status();
      frozen.hi = *hi;
      counted = countIndices(frozen, &info);
    } else {
      counted = freezeOldest(scope, &frozen, &info);
    }
    if (!counted.ok()) return counted;
    // A clean takes every row of its indices; a DELTA session all up to its mark unless a
    // bound cut it short.
    info.took_all = !frozen.only.empty() || frozen.reached_end;
    frozen.size = info.size;
    frozen.after_row = confirmed_hi_;  // the first live row comes after it
    frozen_ = frozen;
    // A DELTA session sends what it froze: none of it is "new" any more. A clean sends none.
    if (frozen.only.empty()) sent_watermark_ = std::max(sent_watermark_, frozen.hi);
    return saveState();
  }));
  if (!status.ok()) return status;
  return info;
}

// A DELTA session: the oldest rows within the scope's bounds, all of them (the fast way)
// when it has none. Sets frozen->hi. Requires db_mu_, in a transaction.
absl::Status SqliteChangeQueue::freezeOldest(const SessionScope& scope, Frozen* frozen,
                                             SessionInfo* info) {
  absl::StatusOr<int64_t> hi = scalar(statements_->max_row);
  if (!hi.ok()) return hi.status();
  if (!scope.up_to_mark.has_value() || *scope.up_to_mark >= *hi) {
    // Nothing recorded past the mark, and bounds the whole table cannot exceed (the common
    // DELTA call, the default bounds being far above a usual backlog): the whole table,
    // counted without reading every row.
    absl::StatusOr<std::optional<int64_t>> live = liveRowsWithin(scope);
    if (!live.ok()) return live.status();
    if (live->has_value()) {
      frozen->hi = *hi;
      frozen->reached_end = true;
      return countAll(**live, info);
    }
  }
  sqlite::Statement& sizes = statements_->row_sizes;
  sizes.bindInt(1, scope.up_to_mark.value_or(INT64_MAX));
  absl::flat_hash_set<std::string> indices;
  uint64_t bytes = 0;
  absl::StatusOr<bool> row;
  frozen->reached_end = true;
  while ((row = sizes.step()).ok() && *row) {
    const uint64_t size = static_cast<uint64_t>(sizes.columnInt(kSizeBytes));
    const bool full = (scope.max_changes != 0 && info->size >= scope.max_changes) ||
                      (scope.max_bytes != 0 && bytes + size > scope.max_bytes);
    if (full && info->size > 0) {
      frozen->reached_end = false;
      break;
    }
    ++info->size;
    bytes += size;
    frozen->hi = sizes.columnInt(kSizeRow);
    indices.insert(sizes.columnText(kSizeIndex));
  }
  sizes.reset();
  if (!row.ok()) return row.status();
  info->indices.assign(indices.begin(), indices.end());
  std::sort(info->indices.begin(), info->indices.end());
  return absl::OkStatus();
}

absl::StatusOr<std::optional<int64_t>> SqliteChangeQueue::liveRowsWithin(
    const SessionScope& scope) {
  if (scope.max_bytes != 0) {
    absl::StatusOr<int64_t> used = bytesInUse();
    if (!used.ok()) return used.status();
    if (static_cast<uint64_t>(*used) > scope.max_bytes) return std::nullopt;
  }
  absl::StatusOr<int64_t> live = liveRows();
  if (!live.ok()) return live.status();
  if (scope.max_changes != 0 && static_cast<uint64_t>(*live) > scope.max_changes) {
    return std::nullopt;
  }
  return std::optional<int64_t>(*live);
}

// Everything up to the last row: the whole table. Requires db_mu_, in a transaction.
absl::Status SqliteChangeQueue::countAll(int64_t live, SessionInfo* info) {
  info->size = static_cast<uint64_t>(live);
  absl::StatusOr<std::vector<std::string>> indices = indicesWithRows();
  if (!indices.ok()) return indices.status();
  info->indices = *std::move(indices);
  return absl::OkStatus();
}

// The rows of `frozen.only`'s indices up to frozen.hi. Requires db_mu_, in a transaction.
absl::Status SqliteChangeQueue::countIndices(const Frozen& frozen, SessionInfo* info) {
  const std::vector<std::string> only(frozen.only.begin(), frozen.only.end());
  absl::StatusOr<sqlite::Statement> indices = db_->prepare(
      absl::StrCat("SELECT idx, count(*) FROM change WHERE row <= ?1 AND ", liveRow(),
                   " AND idx IN (", absl::StrJoin(std::vector<std::string>(only.size(), "?"), ", "),
                   ") GROUP BY idx ORDER BY idx"));
  if (!indices.ok()) return indices.status();
  indices->bindInt(1, frozen.hi);
  for (size_t i = 0; i < only.size(); ++i) indices->bindText(static_cast<int>(i + 2), only[i]);
  absl::StatusOr<bool> row;
  while ((row = indices->step()).ok() && *row) {
    info->indices.push_back(indices->columnText(0));
    info->size += static_cast<uint64_t>(indices->columnInt(1));
  }
  return row.status();
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

absl::StatusOr<SessionPage> SqliteChangeQueue::readInFlight(uint64_t first_seq, uint64_t last_seq,
                                                            size_t max_bytes) {
  SessionPage page;
  std::lock_guard<std::mutex> lock(db_mu_);
  absl::StatusOr<uint64_t> read =
      visitRows(first_seq, last_seq, max_bytes, [&page](const SessionChangeView& c) {
        page.data_bytes += c.id.size() + c.index.size() + c.data.size();
        page.changes.push_back(ownedCopy(c));
        return true;
      });
  if (!read.ok()) return read.status();
  return page;
}

absl::StatusOr<uint64_t> SqliteChangeQueue::visitInFlight(uint64_t first_seq, uint64_t last_seq,
                                                          size_t max_bytes, ChangeVisitor visit) {
  std::lock_guard<std::mutex> lock(db_mu_);
  return visitRows(first_seq, last_seq, max_bytes, visit);
}

absl::StatusOr<uint64_t> SqliteChangeQueue::visitRows(uint64_t first_seq, uint64_t last_seq,
                                                      size_t max_bytes, ChangeVisitor visit) {
  if (statements_ == nullptr)
    return absl::FailedPreconditionError("queue database is not writable");
  if (!frozen_.active || first_seq >= frozen_.size || first_seq > last_seq) return first_seq;
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
  absl::StatusOr<bool> row = false;
  int64_t last_row = after;   // of the last change taken
  uint64_t next = first_seq;  // the seq after it
  size_t bytes = 0;
  while (seq <= last_seq && bytes < max_bytes && (row = read.step()).ok() && *row) {
    // Views into SQLite's row, valid until the next step: nothing is copied.
    SessionChangeView change;
    change.index = read.columnTextView(kReadIndex);
    if (filtered && !frozen_.only.contains(change.index)) continue;
    if (seq++ < first_seq) continue;
    const int64_t this_row = read.columnInt(kReadRow);
    if (std::string why = damage(read); !why.empty()) {
      const std::string id = read.columnText(kReadId);
      read.reset();
      // One failed session for all of them: the rest of the session is checked now.
      const size_t others = noteDamagedFrom(this_row);
      return absl::DataLossError(absl::StrCat(
          "queue database '", options_.path, "': change id ", quoteValue(id), " cannot be sent (",
          why, ")", others > 1 ? absl::StrCat(", nor ", others - 1, " more") : "",
          "; set aside in quarantine, the next session sends the rest"));
    }
    change.seq = seq - 1;
    change.id = read.columnTextView(kReadId);
    change.is_delete = read.columnInt(kReadOp) == kDelete;
    change.data = read.columnBlobView(kReadData);
    change.version = static_cast<uint64_t>(read.columnInt(kReadVersion));
    if (!visit(change)) break;
    bytes += change.id.size() + change.index.size() + change.data.size();
    last_row = this_row;
    next = seq;
  }
  read.reset();
  if (!row.ok()) return row.status();
  if (!filtered && next != first_seq) {
    frozen_.next_seq = next;
    frozen_.after_row = last_row;
  }
  return next;
}

absl::Status SqliteChangeQueue::commitSession() {
  std::lock_guard<std::mutex> lock(db_mu_);
  if (!frozen_.active) return absl::OkStatus();
  const bool delta = frozen_.only.empty();
  const bool drain_ended = frozen_.reached_end;
  SessionStateGuard guard(this);
  absl::Status status = guard.keepIf(inTransaction([&]() -> absl::Status {
    // First, while the damaged rows are still live: they go to quarantine, not to the dead.
    int64_t quarantined = 0;
    if (absl::Status s = quarantineDamaged(&quarantined); !s.ok()) return s;
    if (delta) {
      confirmFrozenRows(quarantined);
    } else if (absl::Status s = dropFrozenIndices(); !s.ok()) {
      return s;
    }
    frozen_ = Frozen{};
    return saveState();
  }));
  if (!status.ok()) return status;
  damaged_.clear();
  // The dead rows are removed after the commit, by the reclaimer (a clean's rows are gone).
  if (delta) requestReclaim(drain_ended);
  return status;
}

// A clean confirmed: the frozen rows of its indices go, nothing else. Requires db_mu_, in
// a transaction.
absl::Status SqliteChangeQueue::dropFrozenIndices() {
  const std::vector<std::string> only(frozen_.only.begin(), frozen_.only.end());
  absl::StatusOr<sqlite::Statement> drop = db_->prepare(
      absl::StrCat("DELETE FROM change WHERE row <= ?1 AND ", liveRow(), " AND idx IN (",
                   absl::StrJoin(std::vector<std::string>(only.size(), "?"), ", "), ")"));
  if (!drop.ok()) return drop.status();
  drop->bindInt(1, frozen_.hi);
  for (size_t i = 0; i < only.size(); ++i) drop->bindText(static_cast<int>(i + 2), only[i]);
  return drop->run();
}

size_t SqliteChangeQueue::noteDamagedFrom(int64_t first_row) {
  sqlite::Statement& scan = statements_->read_after;
  scan.bindInt(1, first_row - 1);
  scan.bindInt(2, frozen_.hi);
  absl::StatusOr<bool> row;
  size_t found = 0;
  while ((row = scan.step()).ok() && *row) {
    if (!frozen_.only.empty() && !frozen_.only.contains(scan.columnText(kReadIndex))) continue;
    std::string why = damage(scan);
    if (why.empty()) continue;
    damaged_.emplace_back(scan.columnInt(kReadRow), std::move(why));
    ++found;
  }
  scan.reset();
  return found;
}

std::string SqliteChangeQueue::damage(const sqlite::Statement& row) {
  // Views, not copies: this runs for every change a session sends.
  const absl::string_view id = row.columnTextView(kReadId);
  const absl::string_view index = row.columnTextView(kReadIndex);
  const absl::string_view data = row.columnBlobView(kReadData);
  const uint32_t crc = changeCrc(id, index, row.columnInt(kReadOp), data,
                                 static_cast<uint64_t>(row.columnInt(kReadVersion)));
  if (static_cast<int64_t>(crc) != row.columnInt(kReadCrc))
    return "damaged on disk: checksum mismatch";
  if (firstInvalidUtf8(id).has_value() || firstInvalidUtf8(index).has_value()) {
    return "its id or index is not valid UTF-8";
  }
  return "";
}

absl::Status SqliteChangeQueue::quarantineDamaged(int64_t* moved) {
  for (const auto& [row, reason] : damaged_) {
    statements_->quarantine.bindInt(1, row);
    statements_->quarantine.bindText(2, reason);
    if (absl::Status s = statements_->quarantine.run(); !s.ok()) return s;
    statements_->erase.bindInt(1, row);
    if (absl::Status s = statements_->erase.run(); !s.ok()) return s;
    if (moved != nullptr) *moved += db_->changes();  // a row noted twice moves once
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
  SessionStateGuard guard(this);
  absl::Status status = guard.keepIf(inTransaction([this] { return unfreeze(); }));
  if (status.ok()) damaged_.clear();
  return status;
}

}  // namespace asp
