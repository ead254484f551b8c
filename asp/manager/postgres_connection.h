// PostgresConnection: a thin wrapper over one libpq connection that turns results into
// absl::Status values naming the database, the statement and PostgreSQL's own message.
//
// Parameters travel in binary format (bytea values as raw bytes, any byte allowed) and
// results may be asked for in binary too. COPY ... FROM STDIN goes through copyIn().
// A connection that broke (server restarted, network cut) reports broken(); its owner
// opens a new one.
//
// Errors: Unavailable when the connection is (or became) broken or the server is shutting
// down (the owner should drop the connection and connect again), Aborted for a
// serialization failure or deadlock, FailedPrecondition for a query canceled by an
// administrator, Internal otherwise.
//
// Not thread-safe: the owner serializes access.
#ifndef ASP_MANAGER_POSTGRES_CONNECTION_H_
#define ASP_MANAGER_POSTGRES_CONNECTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace asp::manager::pg {

// One query parameter: bytes sent as they are, in binary format. Text parameters are
// bytes too (PostgreSQL's binary format of text is its UTF-8); integers use int8().
struct Param {
  absl::string_view bytes;
};

// An int8 parameter's binary form (8 bytes, big-endian).
std::string int8(int64_t value);
// Reads a binary int8 column value.
int64_t readInt8(absl::string_view bytes);

class Result {
 public:
  explicit Result(PGresult* result) : result_(result) {}
  Result(Result&&) noexcept;
  Result& operator=(Result&&) noexcept;
  ~Result();

  int rows() const;
  bool isNull(int row, int column) const;
  // The value's bytes (binary results: raw; text results: the text).
  absl::string_view value(int row, int column) const;

 private:
  friend class Connection;
  PGresult* result_;
};

class Connection {
 public:
  // Connects to `uri` (a libpq URI or key=value string) with a 10 s connect timeout
  // unless the URI says otherwise.
  static absl::StatusOr<std::unique_ptr<Connection>> connect(const std::string& uri);
  ~Connection();

  // Runs one statement (several, separated by ';', when there are no parameters and
  // text results); `binary_results` asks for binary column values.
  absl::StatusOr<Result> exec(const std::string& sql, const std::vector<Param>& params = {},
                              bool binary_results = false);
  // Runs one statement whose result rows arrive one at a time (single-row mode): a
  // large result never sits in memory whole. `row` gets each row; a non-OK status from
  // it stops the read and is returned.
  absl::Status stream(const std::string& sql, const std::vector<Param>& params,
                      const std::function<absl::Status(const Result& row)>& row);
  // COPY `copy_sql` (a COPY ... FROM STDIN (FORMAT binary)) with the bytes `write`
  // produces: it is called with a sink, which it calls with chunks of the stream.
  absl::Status copyIn(
      const std::string& copy_sql,
      const std::function<absl::Status(const std::function<absl::Status(absl::string_view)>& sink)>&
          write);

  bool broken() const;
  // "database 'x' on /socket/dir" (never the password), for messages.
  std::string describe() const;

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  absl::Status error(absl::string_view action, const PGresult* result) const;

  PGconn* conn_;
};

// Writes PostgreSQL's binary COPY format: header, tuples, trailer.
class BinaryCopyWriter {
 public:
  static void header(std::string* out);
  static void trailer(std::string* out);
  static void tupleStart(int16_t fields, std::string* out);
  static void field(absl::string_view bytes, std::string* out);
  static void int8Field(int64_t value, std::string* out);
  static void int2Field(int16_t value, std::string* out);
  static void boolField(bool value, std::string* out);
};

}  // namespace asp::manager::pg

#endif  // ASP_MANAGER_POSTGRES_CONNECTION_H_
