// aspctl's commands on files: status, dump, persist (a module's queue), checksum (JSON
// lines). The manager's state: aspctl_manager.cc.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "asp/base/checksum.h"
#include "asp/base/text.h"
#include "asp/proto/limits.h"
#include "asp/storage/sqlite_change_queue.h"
#include "asp/tools/aspctl_commands.h"
#include "asp/tools/jsonl.h"

namespace asp::tools::aspctl {
namespace {

// What the --db path holds. A 0-byte file is a queue with no changes yet, for every
// command alike (SQLite makes it a database on the first write).
struct DbFile {
  std::string path;
  bool exists = false;
  bool empty = false;
};

absl::StatusOr<DbFile> inspectDb(const std::string& path, bool must_exist) {
  DbFile db{path};
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (must_exist) {
      return absl::NotFoundError(
          absl::StrCat("queue database ", quoteValue(path), " does not exist"));
    }
    const size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "."
                            : slash == 0               ? "/"
                                                       : path.substr(0, slash);
    struct stat parent;
    if (stat(dir.c_str(), &parent) != 0 || !S_ISDIR(parent.st_mode)) {
      return absl::NotFoundError(absl::StrCat("directory ", quoteValue(dir), " for queue database ",
                                              quoteValue(path), " does not exist"));
    }
    return db;
  }
  if (S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat("queue database ", quoteValue(path),
                                                      " is a directory; give the queue file, e.g. ",
                                                      path, "/fim_sync.db"));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("queue database ", quoteValue(path), " is not a regular file"));
  }
  db.exists = true;
  db.empty = st.st_size == 0;
  return db;
}

absl::StatusOr<std::unique_ptr<SqliteChangeQueue>> openForReading(const DbFile& db) {
  SqliteChangeQueue::Options options;
  options.path = db.path;
  options.read_only = true;
  return SqliteChangeQueue::open(options);
}

void printCounts(const std::vector<IndexCounts>& counts) {
  size_t width = 5;
  for (const IndexCounts& c : counts) width = std::max(width, c.index.size());
  const int w = static_cast<int>(width);
  std::cout << std::left << std::setw(w) << "INDEX" << std::right << std::setw(12) << "PENDING"
            << std::setw(12) << "IN_FLIGHT"
            << "\n";
  uint64_t pending = 0, in_flight = 0;
  for (const IndexCounts& c : counts) {
    std::cout << std::left << std::setw(w) << c.index << std::right << std::setw(12) << c.pending
              << std::setw(12) << c.in_flight << "\n";
    pending += c.pending;
    in_flight += c.in_flight;
  }
  std::cout << std::left << std::setw(w) << "TOTAL" << std::right << std::setw(12) << pending
            << std::setw(12) << in_flight << "\n";
}

}  // namespace

std::set<std::string> indexFilter() {
  const std::vector<std::string> indices = absl::GetFlag(FLAGS_index);
  return std::set<std::string>(indices.begin(), indices.end());
}

absl::Status openInput(const std::string& what, Input* input) {
  const std::string path = userPath(absl::GetFlag(FLAGS_input));
  if (path == "-") {
    if (isatty(STDIN_FILENO) == 1) {
      std::cerr << "aspctl: reading " << what << " as JSON lines from the terminal; end with "
                << "Ctrl-D (or give --input=FILE)" << std::endl;
    }
    input->stream = &std::cin;
    return absl::OkStatus();
  }
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--input ", quoteValue(path), " is a directory"));
  }
  input->file.open(path, std::ios::binary);
  if (!input->file) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read --input ", quoteValue(path)));
  }
  input->stream = &input->file;
  return absl::OkStatus();
}

int status() {
  absl::StatusOr<DbFile> db = inspectDb(userPath(absl::GetFlag(FLAGS_db)), /*must_exist=*/true);
  if (!db.ok()) return error(kStorage, db.status().message());
  if (db->empty) {
    std::cerr << "aspctl: " << db->path << " is empty (0 bytes): a queue with no changes yet\n";
    printCounts({});
    return kOk;
  }
  auto queue = openForReading(*db);
  if (!queue.ok()) return error(kStorage, queue.status().message());
  auto counts = (*queue)->counts();
  if (!counts.ok()) return error(kStorage, counts.status().message());
  printCounts(*counts);
  return kOk;
}

int dump() {
  absl::StatusOr<DbFile> db = inspectDb(userPath(absl::GetFlag(FLAGS_db)), /*must_exist=*/true);
  if (!db.ok()) return error(kStorage, db.status().message());
  if (db->empty) return kOk;
  auto queue = openForReading(*db);
  if (!queue.ok()) return error(kStorage, queue.status().message());
  const std::set<std::string> only = indexFilter();
  uint64_t unprintable = 0;
  absl::Status s = (*queue)->forEachChange("", [&](const SqliteChangeQueue::StoredChange& c) {
    if (!only.empty() && only.count(c.index) == 0) return;
    absl::StatusOr<std::string> line = formatDumpLine(c);
    if (!line.ok()) {
      // Reported and skipped: the other rows are still worth seeing.
      ++unprintable;
      std::cerr << "aspctl: skipped: " << line.status().message() << "\n";
      return;
    }
    std::cout << *line << "\n";
  });
  if (!s.ok()) return error(kStorage, s.message());
  if (unprintable > 0) {
    return error(kStorage,
                 absl::StrCat(unprintable, " queued change(s) could not be printed as JSON"));
  }
  return kOk;
}

int persist() {
  const std::string module = absl::GetFlag(FLAGS_module);
  if (absl::Status s = wire::validateModuleName(module); !s.ok()) return error(kUsage, s.message());
  absl::StatusOr<DbFile> db = inspectDb(userPath(absl::GetFlag(FLAGS_db)), /*must_exist=*/false);
  if (!db.ok()) return error(kStorage, db.status().message());
  Input input;
  if (absl::Status s = openInput("changes", &input); !s.ok()) return error(kUsage, s.message());
  SqliteChangeQueue::Options options;
  options.path = db->path;
  options.limits = ChangeLimits::forModule(module, wire::kDefaultFrameBudgetBytes);
  auto queue = SqliteChangeQueue::open(options);
  if (!queue.ok()) return error(kStorage, queue.status().message());

  ChangeLineReader reader(*input.stream);
  uint64_t count = 0;
  bool bad_line = false;
  absl::Status s = (*queue)->recordAllOrNone([&]() -> absl::StatusOr<std::optional<Change>> {
    absl::StatusOr<std::optional<Change>> change = reader.next();
    bad_line = !change.ok();
    if (change.ok() && change->has_value()) ++count;
    return change;
  });
  if (!s.ok()) {
    // The reader's errors name their line; a change the queue refused is the last read.
    const std::string where = bad_line ? "" : absl::StrCat("line ", reader.lineNumber(), ": ");
    const int code = s.code() == absl::StatusCode::kInvalidArgument ? kUsage : kStorage;
    return error(code, absl::StrCat(where, s.message(), "; nothing was recorded"));
  }
  std::cout << "persisted " << count << " changes to " << db->path << "\n";
  return kOk;
}

int checksum() {
  Input input;
  if (absl::Status s = openInput("documents", &input); !s.ok()) return error(kUsage, s.message());
  const std::set<std::string> only = indexFilter();
  // Per index, per id: one checksum per document (an id twice is an error).
  std::map<std::string, std::map<std::string, std::string>> documents;
  for (const std::string& index : only) documents[index];
  ChangeLineReader reader(*input.stream);
  while (true) {
    absl::StatusOr<std::optional<Change>> line = reader.next();
    if (!line.ok()) return error(kUsage, line.status().message());
    if (!line->has_value()) break;
    const Change& d = **line;
    if (!only.empty() && only.count(d.index) == 0) continue;
    if (d.operation == Operation::kDelete) {
      return error(kUsage,
                   absl::StrCat("line ", reader.lineNumber(), ": ", quoteValue(d.id),
                                " is a delete; checksum reads documents (create or modify)"));
    }
    if (!documents[d.index].emplace(d.id, documentChecksum(d.data)).second) {
      return error(kUsage, absl::StrCat("line ", reader.lineNumber(), ": id ", quoteValue(d.id),
                                        " appears twice in index ", quoteValue(d.index)));
    }
  }
  const bool bare = only.size() == 1;
  for (auto& [index, by_id] : documents) {
    IndexChecksum sum;
    for (auto& [id, document] : by_id) sum.addDocumentChecksum(std::move(document));
    if (bare) {
      std::cout << sum.finish() << "\n";
    } else {
      std::cout << sum.finish() << "  " << index << "  " << by_id.size() << " documents\n";
    }
  }
  return kOk;
}

}  // namespace asp::tools::aspctl
