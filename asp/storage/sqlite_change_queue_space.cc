// SqliteChangeQueue, deferred deletion and space (docs/storage.md, "Space"): which rows are
// live, how a confirmed session's rows die and are removed in bulk, and how the file
// gives its free pages back.
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "asp/storage/id_filter.h"
#include "asp/storage/sqlite_change_queue.h"
#include "asp/storage/sqlite_change_queue_internal.h"

namespace asp {
namespace queue_internal {

std::string liveRow(absl::string_view row, absl::string_view floor) {
  if (floor.empty()) return absl::StrCat(row, " > ", kConfirmedHiSql);
  return absl::StrCat(row, " > max(", floor, ", ", kConfirmedHiSql, ")");
}

std::string findSql() {
  return absl::StrCat("SELECT row, op, is_new, idx FROM change WHERE id = ?1 AND ", liveRow());
}

std::string readAfterSql() {
  return absl::StrCat("SELECT row, id, idx, op, data, version, crc FROM change WHERE ",
                      liveRow("row", "?1"), " AND row <= ?2 ORDER BY row");
}

std::string rowSizesSql() {
  return absl::StrCat(
      "SELECT row, idx, length(CAST(id AS BLOB)) + length(CAST(idx AS BLOB)) + length(data) "
      "FROM change WHERE ",
      liveRow(), " AND row <= ?1 ORDER BY row");
}

// The pending rows (above ?1) drive both statements: a frozen range of a million rows
// must not be scanned to merge the few recorded meanwhile ('+': a filter, not an index).
std::string mergeUpdateSql() {
  return absl::StrCat(
      "UPDATE change AS f SET idx = p.idx, op = p.op, data = p.data, version = p.version, "
      "crc = p.crc FROM change AS p WHERE p.row > ?1 AND f.id = p.id AND f.row <= ?1 AND ",
      liveRow("+f.row"));
}

std::string mergeDeleteSql() {
  return absl::StrCat(
      "DELETE FROM change AS p WHERE p.row > ?1 AND EXISTS "
      "(SELECT 1 FROM change AS f WHERE f.id = p.id AND f.row <= ?1 AND ",
      liveRow("f.row"), ")");
}

std::vector<std::string> removeDeadRowsSql() {
  return {
      "CREATE TEMP TABLE IF NOT EXISTS kept_change AS SELECT * FROM change WHERE 0",
      absl::StrCat("INSERT INTO temp.kept_change SELECT * FROM change WHERE ", liveRow()),
      "DELETE FROM change",
      "INSERT INTO change SELECT * FROM temp.kept_change ORDER BY row",
      "DELETE FROM temp.kept_change",
  };
}

}  // namespace queue_internal

namespace {

// The dead rows are removed at the end of a drain once they outnumber the live ones by
// this much: the removal costs a pass over the dead pages plus two copies of the live
// rows, so it is paid when the live rows are few.
constexpr int64_t kDeadPerLiveRow = 4;
// A file without auto-vacuum is converted (VACUUM copies what is live, not the free
// pages) when at most this much of it is in use.
constexpr int64_t kConvertMaxLiveBytes = int64_t{16} << 20;
// A checkpoint to give space back is worth its sync once the file holds this much more
// than its pages, or the WAL file this much: small sessions that empty a small queue do
// not each pay one.
constexpr int64_t kReclaimMinBytes = int64_t{1} << 20;

int64_t fileBytes(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

}  // namespace

absl::StatusOr<int64_t> SqliteChangeQueue::liveRows() {
  absl::StatusOr<int64_t> rows = scalar(statements_->count_all);
  if (!rows.ok()) return rows.status();
  return std::max<int64_t>(0, *rows - dead_rows_);
}

void SqliteChangeQueue::confirmFrozenRows(int64_t quarantined) {
  // Every row of the range dies, but those quarantined: they left it already. Removing
  // them is the reclaimer's: clearing a table reads each of its pages, which would make
  // the commit cost as much as the session sent.
  confirmed_hi_ = std::max(confirmed_hi_, frozen_.hi);
  dead_rows_ += static_cast<int64_t>(frozen_.size) - quarantined;
}

void SqliteChangeQueue::requestReclaim(bool drain_ended) {
  std::lock_guard<std::mutex> lock(reclaim_mu_);
  reclaim_wanted_ = true;
  reclaim_drain_ended_ = reclaim_drain_ended_ || drain_ended;
  if (!reclaimer_.joinable()) reclaimer_ = std::thread([this] { reclaimLoop(); });
  reclaim_cv_.notify_all();
}

void SqliteChangeQueue::awaitReclaim() {
  std::unique_lock<std::mutex> lock(reclaim_mu_);
  reclaim_cv_.wait(lock, [this] { return !reclaim_wanted_ && !reclaim_busy_; });
}

void SqliteChangeQueue::reclaimLoop() {
  std::unique_lock<std::mutex> lock(reclaim_mu_);
  for (;;) {
    reclaim_cv_.wait(lock, [this] { return reclaim_wanted_ || reclaim_stop_; });
    if (!reclaim_wanted_) return;  // stopping, nothing asked
    const bool drain_ended = reclaim_drain_ended_;
    reclaim_wanted_ = reclaim_drain_ended_ = false;
    reclaim_busy_ = true;
    lock.unlock();
    {
      std::lock_guard<std::mutex> db_lock(db_mu_);
      // Best effort: on failure the rows stay dead (never read) and the next commit asks
      // again.
      if (removeConfirmedRows(drain_ended).value_or(false)) reclaimSpace();
    }
    lock.lock();
    reclaim_busy_ = false;
    reclaim_cv_.notify_all();
  }
}

absl::StatusOr<bool> SqliteChangeQueue::removeConfirmedRows(bool drain_ended) {
  if (db_ == nullptr || statements_ == nullptr || dead_rows_ == 0 || frozen_.active) {
    return false;
  }
  bool cleared = false, removed = false;
  SessionStateGuard guard(this);
  absl::Status status = guard.keepIf(inTransaction([&]() -> absl::Status {
    statements_->rows_after.bindInt(1, confirmed_hi_);
    absl::StatusOr<int64_t> later = scalar(statements_->rows_after);
    if (!later.ok()) return later.status();
    if (*later == 0) {
      // Nothing live is left: the whole table goes, dead rows with it, at the cost of a
      // pass over its pages (no index lookup per row).
      cleared = true;
      dead_rows_ = 0;
      if (absl::Status s = statements_->delete_all.run(); !s.ok()) return s;
      if (absl::Status s = statements_->clear_indices.run(); !s.ok()) return s;
      return saveState();
    }
    // Every live row is above the dead ones; numbers skipped by cancelled changes make
    // this an upper bound of how many there are.
    const int64_t live_at_most = next_row_ - 1 - confirmed_hi_;
    if (!drain_ended || dead_rows_ < kDeadPerLiveRow * live_at_most) return absl::OkStatus();
    removed = true;
    if (absl::Status s = removeDeadRows(); !s.ok()) return s;
    return saveState();
  }));
  if (!status.ok()) return status;
  // Forgotten only once durable: a known index must have its queue_index row.
  if (cleared) {
    known_indices_.clear();
    ids_->clear();
    ids_complete_ = true;
  }
  return cleared || removed;
}

absl::Status SqliteChangeQueue::removeDeadRows() {
  // The statements tell live from dead by the stored watermark: it must be the new one.
  if (absl::Status s = saveState(); !s.ok()) return s;
  for (const std::string& sql : queue_internal::removeDeadRowsSql()) {
    if (absl::Status s = db_->exec(sql); !s.ok()) return s;
  }
  dead_rows_ = 0;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> SqliteChangeQueue::bytesInUse() {
  absl::StatusOr<int64_t> pages = db_->queryInt("PRAGMA page_count");
  absl::StatusOr<int64_t> free_pages = db_->queryInt("PRAGMA freelist_count");
  absl::StatusOr<int64_t> page_bytes = db_->queryInt("PRAGMA page_size");
  if (!pages.ok()) return pages.status();
  if (!free_pages.ok()) return free_pages.status();
  if (!page_bytes.ok()) return page_bytes.status();
  return (*pages - *free_pages) * *page_bytes;
}

void SqliteChangeQueue::reclaimSpace() {
  if (db_ == nullptr || statements_ == nullptr || options_.path == kInMemoryPath) return;
  absl::StatusOr<int64_t> in_use = bytesInUse();
  if (!in_use.ok()) return;
  if (!auto_vacuum_ && *in_use <= kConvertMaxLiveBytes) {
    // Best effort: a failed conversion leaves the file as it was (VACUUM is atomic) and is
    // tried again at the next occasion.
    auto_vacuum_ = db_->exec("PRAGMA auto_vacuum = FULL").ok() && db_->exec("VACUUM").ok() &&
                   db_->queryInt("PRAGMA auto_vacuum").value_or(0) == 1;
    in_use = bytesInUse();
    if (!in_use.ok()) return;
  }
  // The file shrinks when a checkpoint copies the commit that freed the pages; the WAL
  // file itself is then cut to nothing. Without waiting: a reader of another process
  // (aspctl) makes it a no-op this time.
  if (fileBytes(options_.path) - *in_use < kReclaimMinBytes &&
      fileBytes(options_.path + "-wal") < kReclaimMinBytes) {
    return;
  }
  (void)db_->exec("PRAGMA busy_timeout = 0");
  (void)db_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
  (void)db_->exec(queue_internal::kBusyTimeoutSql);
}

}  // namespace asp
