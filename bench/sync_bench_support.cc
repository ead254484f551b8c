#include "bench/sync_bench_support.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "asp/proto/limits.h"
#include "asp/proto/wire.pb.h"
#include "asp/storage/sqlite_change_queue.h"
#include "benchmark/benchmark.h"

namespace asp::bench {
namespace {

using wire::v1::DataValue;
using wire::v1::Message;

// The pending rows, in first-recorded order, continuing after the last row read: the
// same walk the queue's own readInFlight makes over a frozen session.
constexpr char kSelectPage[] =
    "SELECT row, id, idx, op, data, version FROM change WHERE row > ?1 ORDER BY row";
constexpr int64_t kDeleteOp = 2;  // the queue's op column: 1 upsert, 2 delete

struct Row {
  int64_t row = 0;
  std::string id;
  std::string index;
  bool is_delete = false;
  std::string data;
  uint64_t version = 0;
};

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;
using StatementHandle = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

absl::Status sqliteError(sqlite3* db, absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat("plain reader of '", path, "': ", what, ": ",
                                          db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
}

std::string textColumn(sqlite3_stmt* statement, int column) {
  const unsigned char* text = sqlite3_column_text(statement, column);
  const int bytes = sqlite3_column_bytes(statement, column);
  return text == nullptr
             ? std::string()
             : std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(bytes));
}

std::string blobColumn(sqlite3_stmt* statement, int column) {
  const void* blob = sqlite3_column_blob(statement, column);
  const int bytes = sqlite3_column_bytes(statement, column);
  return blob == nullptr ? std::string()
                         : std::string(static_cast<const char*>(blob), static_cast<size_t>(bytes));
}

// One page: the rows after `after_row`, up to the one that brings id + index + data to
// kReadPageBytes, as readInFlight() pages.
int readPage(sqlite3_stmt* select, int64_t after_row, std::vector<Row>* page) {
  page->clear();
  sqlite3_bind_int64(select, 1, after_row);
  size_t bytes = 0;
  int rc = SQLITE_DONE;
  while (bytes < kReadPageBytes && (rc = sqlite3_step(select)) == SQLITE_ROW) {
    Row row;
    row.row = sqlite3_column_int64(select, 0);
    row.id = textColumn(select, 1);
    row.index = textColumn(select, 2);
    row.is_delete = sqlite3_column_int64(select, 3) == kDeleteOp;
    row.data = blobColumn(select, 4);
    row.version = static_cast<uint64_t>(sqlite3_column_int64(select, 5));
    bytes += row.id.size() + row.index.size() + row.data.size();
    page->push_back(std::move(row));
  }
  sqlite3_reset(select);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

// Packs values into Message{data_batch} frames within a budget, tracking the encoded
// size as it goes (the protobuf arithmetic of a length-delimited field).
class Framer {
 public:
  Framer(size_t max_message_bytes, absl::string_view prefix,
         const std::function<absl::Status(const std::string&)>& emit, PlainRunStats* stats)
      : max_message_bytes_(max_message_bytes), prefix_(prefix), emit_(emit), stats_(stats) {}

  absl::Status add(DataValue value) {
    const size_t body = value.ByteSizeLong();
    const size_t entry = 1 + wire::varintBytes(body) + body;
    if (count_ > 0 && messageBytes(batch_bytes_ + entry) > max_message_bytes_) {
      if (absl::Status s = flush(); !s.ok()) return s;
    }
    batch_bytes_ += entry;
    *message_.mutable_data_batch()->add_values() = std::move(value);
    ++count_;
    return absl::OkStatus();
  }

  absl::Status flush() {
    if (count_ == 0) return absl::OkStatus();
    frame_.assign(prefix_.data(), prefix_.size());
    message_.AppendToString(&frame_);
    ++stats_->frames;
    stats_->message_bytes += frame_.size() - prefix_.size();
    stats_->values += count_;
    message_.Clear();
    batch_bytes_ = 0;
    count_ = 0;
    return emit_(frame_);
  }

 private:
  static size_t messageBytes(size_t batch_bytes) {
    return 1 + wire::varintBytes(batch_bytes) + batch_bytes;
  }

  const size_t max_message_bytes_;
  const absl::string_view prefix_;
  const std::function<absl::Status(const std::string&)>& emit_;
  PlainRunStats* const stats_;
  Message message_;
  std::string frame_;
  size_t batch_bytes_ = 0;
  size_t count_ = 0;
};

}  // namespace

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(p / 100 * static_cast<double>(values.size()));
  const size_t index = static_cast<size_t>(std::max(1.0, rank)) - 1;
  return values[std::min(index, values.size() - 1)];
}

AgentInfo benchAgentInfo() {
  AgentInfo info;
  info.id = "001";
  info.name = "bench-agent";
  info.version = "asp-1";
  return info;
}

absl::Status takeIdsFlag(int* argc, char** argv) {
  absl::Status status;
  takeFlags("--ids=", argc, argv, [&](absl::string_view value) {
    if (value == idShapeName(IdShape::kHex40)) {
      setIdShape(IdShape::kHex40);
    } else if (value == idShapeName(IdShape::kCounter)) {
      setIdShape(IdShape::kCounter);
    } else {
      status = absl::InvalidArgumentError(
          absl::StrCat("--ids=", value, ": expected --ids=counter or --ids=hex40"));
    }
    return true;
  });
  return status;
}

bool filterSelects(absl::string_view word) {
  std::string filter = benchmark::GetBenchmarkFilter();
  if (filter.empty() || filter == "all" || filter == "." || filter == ".*") return true;
  const bool negated = filter[0] == '-';
  if (negated) filter.erase(0, 1);
  return (filter.find(std::string(word)) != std::string::npos) != negated;
}

absl::StatusOr<double> fillQueueFile(const std::string& path, uint64_t changes) {
  const SteadyClock::time_point start = SteadyClock::now();
  SqliteChangeQueue::Options options;
  options.path = path;
  absl::StatusOr<std::unique_ptr<SqliteChangeQueue>> queue =
      SqliteChangeQueue::open(std::move(options));
  if (!queue.ok()) return queue.status();
  std::vector<Change> batch;
  uint64_t next = 0;
  while (next < changes) {
    batch.resize(std::min<uint64_t>(kFillBatchChanges, changes - next));
    fillBatch("doc-", &next, &batch);
    if (absl::Status s = (*queue)->recordBatch(batch); !s.ok()) return s;
  }
  queue->reset();  // closes the file (and checkpoints its WAL)
  return secondsBetween(start, SteadyClock::now());
}

absl::StatusOr<PlainRunStats> readAndPack(
    const std::string& path, size_t max_message_bytes, absl::string_view prefix,
    const std::function<absl::Status(const std::string& frame)>& emit) {
  sqlite3* raw_db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  DbHandle db(raw_db);  // owned even when opening failed
  if (rc != SQLITE_OK) return sqliteError(db.get(), "open", path);
  sqlite3_stmt* raw_select = nullptr;
  if (sqlite3_prepare_v2(db.get(), kSelectPage, -1, &raw_select, nullptr) != SQLITE_OK) {
    return sqliteError(db.get(), kSelectPage, path);
  }
  StatementHandle select(raw_select);

  PlainRunStats stats;
  Framer framer(max_message_bytes, prefix, emit, &stats);
  std::vector<Row> page;
  int64_t after_row = 0;
  uint64_t seq = 0;
  while (true) {
    if (readPage(select.get(), after_row, &page) != SQLITE_OK) {
      return sqliteError(db.get(), "step", path);
    }
    if (page.empty()) break;
    ++stats.pages;
    after_row = page.back().row;
    for (Row& row : page) {
      DataValue value;
      value.set_seq(seq++);
      value.set_session(kSessionId);
      value.set_operation(row.is_delete ? wire::v1::OPERATION_DELETE : wire::v1::OPERATION_UPSERT);
      value.set_id(std::move(row.id));
      value.set_index(std::move(row.index));
      value.set_version(row.version);
      value.set_data(std::move(row.data));
      if (absl::Status s = framer.add(std::move(value)); !s.ok()) return s;
    }
  }
  if (absl::Status s = framer.flush(); !s.ok()) return s;
  return stats;
}

absl::StatusOr<std::string> RoundBacklog::fileFor(int64_t round) {
  if (round == round_ && !path_.empty()) return path_;
  release();
  path_ = dir_->newDbPath("backlog");
  absl::StatusOr<double> seconds = fillQueueFile(path_, changes_);
  if (!seconds.ok()) {
    release();
    return seconds.status();
  }
  fill_seconds_.push_back(*seconds);
  round_ = round;
  return path_;
}

void RoundBacklog::release() {
  if (!path_.empty()) removeDbFiles(path_);
  path_.clear();
  round_ = -1;
}

bool ok(benchmark::State& state, const absl::Status& status) {
  if (status.ok()) return true;
  state.SkipWithError(std::string(status.message()).c_str());
  return false;
}

bool ok(benchmark::State& state, const absl::Status& status, RoundChecks* checks) {
  if (status.ok()) return true;
  checks->fail(std::string(status.message()));
  return ok(state, status);
}

}  // namespace asp::bench
