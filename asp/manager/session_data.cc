#include "asp/manager/session_data.h"

#include <sqlite3.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "asp/sqlite/sqlite_db.h"

namespace asp::manager {
namespace {

// What one held entry or received range costs besides its strings (vector slot, map
// node, allocator overhead), so the budget counts what the process really holds.
// A received range is charged with its entry (there are never more ranges than entries).
constexpr size_t kEntryOverhead = sizeof(SessionUpdate::Op) + 32;
constexpr size_t kRangeBytes = 64;

// The spill database's page cache: fixed, whatever it holds. Its rollback journal is in
// memory (bounded by one transaction's pages) so that a failed write rolls back cleanly
// (with no journal, SQLite's rollback after an error is undefined).
constexpr char kSpillSchema[] = R"sql(
PRAGMA cache_size = -4096;
PRAGMA journal_mode = MEMORY;
PRAGMA synchronous = OFF;
CREATE TABLE spill (
  session INTEGER NOT NULL,
  seq     INTEGER NOT NULL,
  context INTEGER NOT NULL,
  kind    INTEGER NOT NULL,
  idx     TEXT NOT NULL,
  id      TEXT NOT NULL,
  data    BLOB NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (session, seq)
);
)sql";

size_t entryBytes(const SessionUpdate::Op& op) {
  return kEntryOverhead + op.index.capacity() + op.id.capacity() + op.data.capacity();
}

SessionUpdate::Op::Kind kindOf(int64_t value) {
  switch (value) {
    case 1:
      return SessionUpdate::Op::Kind::kDelete;
    case 2:
      return SessionUpdate::Op::Kind::kClean;
    default:
      return SessionUpdate::Op::Kind::kUpsert;
  }
}

int64_t valueOf(SessionUpdate::Op::Kind kind) {
  switch (kind) {
    case SessionUpdate::Op::Kind::kDelete:
      return 1;
    case SessionUpdate::Op::Kind::kClean:
      return 2;
    case SessionUpdate::Op::Kind::kUpsert:
      break;
  }
  return 0;
}

// Ops of one spilled session, read in seq order as the store asks for them.
class SpilledOps final : public OpSource {
 public:
  explicit SpilledOps(sqlite::Statement query) : query_(std::move(query)) {}
  absl::StatusOr<bool> next(SessionUpdate::Op* op) override {
    absl::StatusOr<bool> row = query_.step();
    if (!row.ok() || !*row) return row;
    op->kind = kindOf(query_.columnInt(0));
    op->index = query_.columnText(1);
    op->id = query_.columnText(2);
    op->data = query_.columnBlob(3);
    op->version = static_cast<uint64_t>(query_.columnInt(4));
    return true;
  }

 private:
  sqlite::Statement query_;
};

// Ops of one session held in memory, already sorted by seq, all of one kind (contexts or
// not). It owns the entries (moved in whole, not copied op by op).
class HeldOps final : public HeldOpSource<HeldOps> {
 public:
  explicit HeldOps(std::deque<SessionData::Entry> entries) : entries_(std::move(entries)) {}
  size_t count() const { return entries_.size(); }
  SessionUpdate::Op& at(size_t i) { return entries_[i].op; }

 private:
  std::deque<SessionData::Entry> entries_;
};

}  // namespace

bool MemoryBudget::tryTake(size_t bytes) {
  if (bytes > limit_ - std::min(used_, limit_)) return false;
  used_ += bytes;
  return true;
}

SpillStore::SpillStore(int64_t max_pages) : max_pages_(max_pages) {}
SpillStore::~SpillStore() { insert_.reset(); }

void SpillStore::noteFailure() {
  if (uncommitted_rows_ >= 0 && sqlite3_get_autocommit(db_->handle()) != 0) {
    uncommitted_rows_ = -1;
    ++losses_;
  }
}

absl::Status SpillStore::commit() {
  if (uncommitted_rows_ < 0) return absl::OkStatus();
  absl::Status status = db_->exec("COMMIT");
  if (status.ok()) {
    uncommitted_rows_ = -1;
  } else {
    noteFailure();  // still open (tried again at the next commit), or gone with its rows
  }
  return status;
}

absl::Status SpillStore::open() {
  if (db_ != nullptr) return absl::OkStatus();
  // "": a private temporary database on disk, deleted when closed.
  absl::StatusOr<std::unique_ptr<sqlite::Db>> db =
      sqlite::Db::open("", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
  if (!db.ok()) return db.status();
  if (absl::Status s = (*db)->exec(kSpillSchema); !s.ok()) return s;
  if (max_pages_ > 0) {
    if (absl::Status s = (*db)->exec(absl::StrCat("PRAGMA max_page_count = ", max_pages_));
        !s.ok()) {
      return s;
    }
  }
  absl::StatusOr<sqlite::Statement> insert =
      (*db)->prepare("INSERT OR IGNORE INTO spill VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!insert.ok()) return insert.status();
  insert_ = std::make_unique<sqlite::Statement>(*std::move(insert));
  db_ = *std::move(db);
  return absl::OkStatus();
}

absl::StatusOr<bool> SpillStore::add(uint64_t session, uint64_t seq, bool context,
                                     const SessionUpdate::Op& op) {
  if (absl::Status s = open(); !s.ok()) return s;
  if (uncommitted_rows_ >= kRowsPerTransaction) {
    if (absl::Status s = commit(); !s.ok()) return s;
  }
  if (uncommitted_rows_ < 0) {
    if (absl::Status s = db_->exec("BEGIN"); !s.ok()) return s;
    uncommitted_rows_ = 0;
  }
  ++uncommitted_rows_;
  sqlite::Statement* insert = insert_.get();
  insert->bindInt(1, static_cast<int64_t>(session));
  insert->bindInt(2, static_cast<int64_t>(seq));
  insert->bindInt(3, context ? 1 : 0);
  insert->bindInt(4, valueOf(op.kind));
  insert->bindText(5, op.index);
  insert->bindText(6, op.id);
  insert->bindBlob(7, op.data);
  insert->bindInt(8, static_cast<int64_t>(op.version));
  if (absl::Status s = insert->run(); !s.ok()) {
    noteFailure();
    return s;
  }
  return db_->changes() == 1;
}

absl::Status SpillStore::forEachSeq(uint64_t session, const std::function<bool(uint64_t)>& visit) {
  if (absl::Status s = open(); !s.ok()) return s;
  if (absl::Status s = commit(); !s.ok()) return s;
  absl::StatusOr<sqlite::Statement> query =
      db_->prepare("SELECT seq FROM spill WHERE session = ?1 ORDER BY seq");
  if (!query.ok()) return query.status();
  query->bindInt(1, static_cast<int64_t>(session));
  absl::StatusOr<bool> row;
  while ((row = query->step()).ok() && *row) {
    if (!visit(static_cast<uint64_t>(query->columnInt(0)))) break;
  }
  return row.status();
}

absl::StatusOr<std::unique_ptr<OpSource>> SpillStore::ops(uint64_t session, bool contexts) {
  if (absl::Status s = open(); !s.ok()) return s;
  if (absl::Status s = commit(); !s.ok()) return s;
  absl::StatusOr<sqlite::Statement> query = db_->prepare(
      "SELECT kind, idx, id, data, version FROM spill WHERE session = ?1 AND context = ?2 "
      "ORDER BY seq");
  if (!query.ok()) return query.status();
  query->bindInt(1, static_cast<int64_t>(session));
  query->bindInt(2, contexts ? 1 : 0);
  return std::unique_ptr<OpSource>(new SpilledOps(*std::move(query)));
}

absl::StatusOr<std::pair<uint64_t, uint64_t>> SpillStore::count(uint64_t session) {
  if (absl::Status s = open(); !s.ok()) return s;
  absl::StatusOr<sqlite::Statement> query =
      db_->prepare("SELECT count(*), coalesce(sum(context), 0) FROM spill WHERE session = ?1");
  if (!query.ok()) return query.status();
  query->bindInt(1, static_cast<int64_t>(session));
  absl::StatusOr<bool> row = query->step();
  if (!row.ok()) return row.status();
  if (!*row) return std::pair<uint64_t, uint64_t>{0, 0};
  return std::pair<uint64_t, uint64_t>{static_cast<uint64_t>(query->columnInt(0)),
                                       static_cast<uint64_t>(query->columnInt(1))};
}

absl::Status SpillStore::drop(uint64_t session) {
  if (db_ == nullptr) return absl::OkStatus();
  if (absl::Status s = commit(); !s.ok()) return s;
  absl::StatusOr<sqlite::Statement> erase = db_->prepare("DELETE FROM spill WHERE session = ?1");
  if (!erase.ok()) return erase.status();
  erase->bindInt(1, static_cast<int64_t>(session));
  return erase->run();
}

SessionData::SessionData(uint64_t session, uint64_t size, MemoryBudget* budget, SpillStore* spill)
    : session_(session), size_(size), budget_(budget), spill_(spill) {}

SessionData::~SessionData() {
  release();
  if (spilled_) (void)spill_->drop(session_);
}

void SessionData::release() {
  budget_->give(memory_bytes_);
  memory_bytes_ = 0;
  std::deque<Entry>().swap(entries_);
  in_seq_order_ = true;
  ranges_.clear();
}

bool SessionData::isReceived(uint64_t seq) const {
  auto it = ranges_.upper_bound(seq);
  if (it == ranges_.begin()) return false;
  --it;
  return seq <= it->second;
}

void SessionData::markReceived(uint64_t seq) {
  // Joins the range ending just before it and the one starting just after it.
  auto next = ranges_.upper_bound(seq);
  const bool joins_next = next != ranges_.end() && next->first == seq + 1;
  if (next != ranges_.begin()) {
    auto previous = std::prev(next);
    if (previous->second + 1 == seq) {
      previous->second = joins_next ? next->second : seq;
      if (joins_next) ranges_.erase(next);
      return;
    }
  }
  if (joins_next) {
    const uint64_t end = next->second;
    ranges_.erase(next);
    ranges_.emplace(seq, end);
    return;
  }
  ranges_.emplace(seq, seq);
}

absl::StatusOr<bool> SessionData::add(uint64_t seq, SessionUpdate::Op op, bool context) {
  if (seq >= size_) return false;
  if (!spilled_) {
    if (isReceived(seq)) return false;
    const size_t cost = entryBytes(op) + kRangeBytes;
    if (budget_->tryTake(cost)) {
      memory_bytes_ += cost;
      markReceived(seq);
      if (!entries_.empty() && seq < entries_.back().seq) in_seq_order_ = false;
      entries_.push_back(Entry{seq, context, std::move(op)});
      ++received_;
      if (context) ++contexts_received_;
      return true;
    }
    if (absl::Status s = spill(); !s.ok()) return s;
  }
  absl::StatusOr<bool> stored = spill_->add(session_, seq, context, op);
  if (stored.ok() && *stored) {
    ++received_;
    if (context) ++contexts_received_;
  }
  return stored;
}

bool SessionData::complete() {
  if (spilled_ && spill_->losses() != losses_seen_) {
    absl::StatusOr<std::pair<uint64_t, uint64_t>> held = spill_->count(session_);
    if (!held.ok()) return false;  // asked again at the next End
    losses_seen_ = spill_->losses();
    received_ = held->first;
    contexts_received_ = held->second;
  }
  return received_ == size_;
}

absl::Status SessionData::spill() {
  spill_->countSession();
  for (const Entry& entry : entries_) {
    absl::StatusOr<bool> stored = spill_->add(session_, entry.seq, entry.context, entry.op);
    if (!stored.ok()) return stored.status();
  }
  spilled_ = true;
  losses_seen_ = spill_->losses();
  release();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> SessionData::missing(size_t limit) {
  std::vector<std::pair<uint64_t, uint64_t>> gaps;
  uint64_t expected = 0;  // the first seq not yet known to be received
  auto visit = [&](uint64_t begin, uint64_t end) {
    if (begin > expected) gaps.emplace_back(expected, begin - 1);
    expected = end + 1;
    return gaps.size() < limit;
  };
  if (spilled_) {
    absl::Status s = spill_->forEachSeq(session_, [&](uint64_t seq) { return visit(seq, seq); });
    if (!s.ok()) return s;
  } else {
    for (const auto& [begin, end] : ranges_) {
      if (!visit(begin, end)) break;
    }
  }
  if (gaps.size() < limit && expected < size_) gaps.emplace_back(expected, size_ - 1);
  return gaps;
}

void SessionData::sortHeld() {
  // Data usually arrives in seq order (add() notes when it does not): only
  // retransmissions and reordering need a sort.
  if (in_seq_order_) return;
  std::sort(entries_.begin(), entries_.end(),
            [](const Entry& a, const Entry& b) { return a.seq < b.seq; });
  in_seq_order_ = true;
}

absl::StatusOr<std::unique_ptr<OpSource>> SessionData::takeContexts() {
  if (spilled_) return spill_->ops(session_, /*contexts=*/true);
  sortHeld();
  // Moved out of the entries (usually none or a few); takeOps() leaves what remains of
  // them out, and gives their memory back with the rest.
  std::deque<Entry> contexts;
  for (Entry& entry : entries_) {
    if (entry.context) contexts.push_back(Entry{entry.seq, true, std::move(entry.op)});
  }
  return std::unique_ptr<OpSource>(new HeldOps(std::move(contexts)));
}

absl::StatusOr<std::unique_ptr<OpSource>> SessionData::takeOps() {
  if (spilled_) return spill_->ops(session_);
  sortHeld();
  if (contexts_received_ > 0) {
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                  [](const Entry& entry) { return entry.context; }),
                   entries_.end());
  }
  auto ops = std::make_unique<HeldOps>(std::move(entries_));
  release();  // the ops now live in `ops`, for the length of the apply
  return std::unique_ptr<OpSource>(std::move(ops));
}

}  // namespace asp::manager
