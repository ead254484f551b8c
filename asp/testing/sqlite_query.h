// One-off SQL on an SQLite file from outside the code under test (its own connection),
// for tests that inspect what reached the disk.
#ifndef ASP_TESTING_SQLITE_QUERY_H_
#define ASP_TESTING_SQLITE_QUERY_H_

#include <string>

namespace asp::testing {

// The first column of the first row `sql` returns on `path`, or "<error>" (also when
// it returns no row). Opens read-write, creating the file, unless `read_only`.
std::string queryOnce(const std::string& path, const std::string& sql, bool read_only = false);

// Runs every statement of `sql` (sqlite3_exec); "" on success, else SQLite's message.
std::string execAll(const std::string& path, const std::string& sql);

// PRAGMA integrity_check on `path`, read-only: "ok" when the file is sound.
inline std::string integrityCheck(const std::string& path) {
  return queryOnce(path, "PRAGMA integrity_check", /*read_only=*/true);
}

}  // namespace asp::testing

#endif  // ASP_TESTING_SQLITE_QUERY_H_
