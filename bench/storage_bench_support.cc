#include "bench/storage_bench_support.h"

#include <stdlib.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace asp::bench {
namespace {

// The queue's own schema: the baseline pays for the same row layout and indices.
const char* const kQueueSchema = SqliteChangeQueue::schemaSql();

// The queue's own INSERT (Statements::insert) and the values it binds for a create; the
// checksum is 0 (computing it is part of what the queue adds).
constexpr char kInsert[] =
    "INSERT INTO change (id, idx, op, data, version, is_new, crc) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)";
constexpr int64_t kUpsert = 1;

const char* const kIndices[] = {"contacts", "calendar", "notes",  "files",
                                "settings", "messages", "photos", "tasks"};

// The value of a "<field>:   <n> kB" line of /proc/self/status, in bytes.
int64_t procStatusBytes(absl::string_view field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, field) || !absl::ConsumePrefix(&rest, ":")) continue;
    rest = absl::StripAsciiWhitespace(rest);
    absl::ConsumeSuffix(&rest, " kB");
    int64_t kib = 0;
    return absl::SimpleAtoi(rest, &kib) ? kib * 1024 : -1;
  }
  return -1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ScratchDir>> ScratchDir::create(absl::string_view prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      absl::StrCat(base != nullptr && *base != '\0' ? base : "/tmp", "/", prefix, "-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("mkdtemp('", pattern, "') failed: ", std::strerror(errno)));
  }
  return std::unique_ptr<ScratchDir>(new ScratchDir(std::move(pattern)));
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string ScratchDir::newDbPath(absl::string_view stem) {
  return absl::StrCat(path_, "/", stem, "-", next_++, ".db");
}

void removeDbFiles(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
}

void takeFlags(absl::string_view prefix, int* argc, char** argv,
               const std::function<bool(absl::string_view value)>& take) {
  int kept = 1;
  for (int i = 1; i < *argc; ++i) {
    absl::string_view value = argv[i];
    if (absl::ConsumePrefix(&value, prefix) && take(value)) continue;
    argv[kept++] = argv[i];
  }
  *argc = kept;
}

uint64_t takeUintFlag(absl::string_view prefix, uint64_t fallback, int* argc, char** argv) {
  uint64_t value = fallback;
  takeFlags(prefix, argc, argv,
            [&](absl::string_view text) { return absl::SimpleAtoi(text, &value); });
  return value;
}

namespace {

IdShape id_shape = IdShape::kCounter;

// SplitMix64's finalizer: consecutive inputs give unrelated outputs.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void setHex40(absl::string_view id_prefix, uint64_t n, std::string* id) {
  uint64_t seed = 0;
  for (char c : id_prefix) seed = mix(seed ^ static_cast<unsigned char>(c));
  static constexpr char kDigits[] = "0123456789abcdef";
  id->resize(40);
  uint64_t word = 0;
  for (int i = 0; i < 40; ++i) {
    if (i % 16 == 0) word = mix(seed ^ mix(n + static_cast<uint64_t>(i)));
    (*id)[i] = kDigits[word & 15];
    word >>= 4;
  }
}

}  // namespace

void setIdShape(IdShape shape) { id_shape = shape; }

IdShape idShape() { return id_shape; }

const char* idShapeName(IdShape shape) { return shape == IdShape::kHex40 ? "hex40" : "counter"; }

void fillChange(absl::string_view id_prefix, uint64_t n, Change* change) {
  if (id_shape == IdShape::kHex40) {
    setHex40(id_prefix, n, &change->id);
  } else {
    change->id.assign(id_prefix.data(), id_prefix.size());
    absl::StrAppend(&change->id, n);
  }
  change->index = kIndices[n % (sizeof(kIndices) / sizeof(kIndices[0]))];
  change->operation = Operation::kCreate;
  change->data.resize(kDataBytes, 'd');
  change->version = n + 1;
}

void fillBatch(absl::string_view id_prefix, uint64_t* next, std::vector<Change>* batch) {
  for (Change& change : *batch) fillChange(id_prefix, (*next)++, &change);
}

absl::StatusOr<std::unique_ptr<BaselineDb>> BaselineDb::open(const std::string& path,
                                                             Durability durability) {
  sqlite3* handle = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &handle,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  // Owned from here on, even when opening failed (SQLite still allocates a handle).
  std::unique_ptr<BaselineDb> db(new BaselineDb(handle, path));
  if (rc != SQLITE_OK) return db->error("open", rc);
  const char* synchronous = durability == Durability::kPowerLoss ? "PRAGMA synchronous = FULL"
                                                                 : "PRAGMA synchronous = NORMAL";
  for (const char* sql : {"PRAGMA busy_timeout = 5000", "PRAGMA journal_mode = WAL", synchronous,
                          static_cast<const char*>(kQueueSchema)}) {
    if (absl::Status s = db->exec(sql); !s.ok()) return s;
  }
  if (absl::Status s = db->prepare(kInsert, &db->insert_); !s.ok()) return s;
  if (absl::Status s = db->prepare("BEGIN IMMEDIATE", &db->begin_); !s.ok()) return s;
  if (absl::Status s = db->prepare("COMMIT", &db->commit_); !s.ok()) return s;
  return db;
}

BaselineDb::~BaselineDb() {
  for (sqlite3_stmt* statement : {insert_, begin_, commit_}) sqlite3_finalize(statement);
  sqlite3_close_v2(db_);
}

absl::Status BaselineDb::insert(const Change& change) {
  sqlite3_bind_text(insert_, 1, change.id.data(), static_cast<int>(change.id.size()),
                    SQLITE_STATIC);
  sqlite3_bind_text(insert_, 2, change.index.data(), static_cast<int>(change.index.size()),
                    SQLITE_STATIC);
  sqlite3_bind_int64(insert_, 3, kUpsert);
  sqlite3_bind_blob(insert_, 4, change.data.data(), static_cast<int>(change.data.size()),
                    SQLITE_STATIC);
  sqlite3_bind_int64(insert_, 5, static_cast<int64_t>(change.version));
  sqlite3_bind_int64(insert_, 6, 1);
  return run(insert_);
}

absl::Status BaselineDb::begin() { return run(begin_); }

absl::Status BaselineDb::commit() { return run(commit_); }

absl::Status BaselineDb::exec(const char* sql) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? absl::OkStatus() : error(sql, rc);
}

absl::Status BaselineDb::prepare(const char* sql, sqlite3_stmt** statement) {
  const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, statement, nullptr);
  return rc == SQLITE_OK ? absl::OkStatus() : error(sql, rc);
}

absl::Status BaselineDb::run(sqlite3_stmt* statement) {
  const int rc = sqlite3_step(statement);
  // The message first: sqlite3_reset() may replace it.
  absl::Status status = rc == SQLITE_DONE ? absl::OkStatus() : error(sqlite3_sql(statement), rc);
  sqlite3_reset(statement);
  return status;
}

absl::Status BaselineDb::error(absl::string_view action, int rc) const {
  return absl::InternalError(absl::StrCat("baseline database '", path_, "': ", action, ": ",
                                          db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc),
                                          " (sqlite code ", rc, ")"));
}

int64_t residentBytes() { return procStatusBytes("VmRSS"); }

int64_t peakResidentBytes() { return procStatusBytes("VmHWM"); }

bool resetPeakResident() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5";
  clear_refs.flush();
  return static_cast<bool>(clear_refs);
}

int64_t maxResidentBytesEver() {
  struct rusage usage {};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return -1;
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

}  // namespace asp::bench
