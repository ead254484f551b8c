#include "asp/manager/postgres_connection.h"

#include <postgresql/libpq-fe.h>

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace asp::manager::pg {
namespace {

// SQLSTATE classes and codes that mean something to a caller.
constexpr char kSerializationFailure[] = "40001";
constexpr char kDeadlock[] = "40P01";
constexpr char kQueryCanceled[] = "57014";
constexpr char kCardinalityViolation[] = "21000";
// 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now.
constexpr char kOperatorInterventionShutdown[] = "57P0";
constexpr char kConnectionExceptionClass[] = "08";

void putInt16(int16_t value, std::string* out) {
  const uint16_t v = static_cast<uint16_t>(value);
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xff));
}

void putInt32(int32_t value, std::string* out) {
  const uint32_t v = static_cast<uint32_t>(value);
  for (int shift = 24; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((v >> shift) & 0xff));
}

std::vector<const char*> values(const std::vector<Param>& params, std::vector<int>* lengths,
                                std::vector<int>* formats) {
  std::vector<const char*> pointers;
  for (const Param& p : params) {
    // A zero-length value still needs a non-null pointer: null means SQL NULL.
    pointers.push_back(p.bytes.data() != nullptr ? p.bytes.data() : "");
    lengths->push_back(static_cast<int>(p.bytes.size()));
    formats->push_back(1);
  }
  return pointers;
}

}  // namespace

std::string int8(int64_t value) {
  std::string out;
  const uint64_t v = static_cast<uint64_t>(value);
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  return out;
}

int64_t readInt8(absl::string_view bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < bytes.size(); ++i)
    v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return static_cast<int64_t>(v);
}

Result::Result(Result&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }

Result& Result::operator=(Result&& other) noexcept {
  if (this != &other) {
    PQclear(result_);
    result_ = other.result_;
    other.result_ = nullptr;
  }
  return *this;
}

Result::~Result() { PQclear(result_); }

int Result::rows() const { return PQntuples(result_); }

bool Result::isNull(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }

absl::string_view Result::value(int row, int column) const {
  return absl::string_view(PQgetvalue(result_, row, column),
                           static_cast<size_t>(PQgetlength(result_, row, column)));
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::connect(const std::string& uri) {
  // Defaults first: with expand_dbname the URI's own settings, expanded in place of
  // "dbname", override them.
  const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* settings[] = {"10", "asp_manager", uri.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, settings, /*expand_dbname=*/1);
  if (conn == nullptr) return absl::ResourceExhaustedError("libpq could not allocate a connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = absl::StrCat("cannot connect to PostgreSQL (",
                                       absl::StripAsciiWhitespace(PQerrorMessage(conn)), ")");
    PQfinish(conn);
    return absl::UnavailableError(message);
  }
  return std::unique_ptr<Connection>(new Connection(conn));
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::broken() const { return PQstatus(conn_) != CONNECTION_OK; }

std::string Connection::describe() const {
  return absl::StrCat("database '", PQdb(conn_), "' on ", PQhost(conn_));
}

absl::Status Connection::error(absl::string_view action, const PGresult* result) const {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state != nullptr ? state : "";
  const char* text = result != nullptr && *PQresultErrorMessage(result) != '\0'
                         ? PQresultErrorMessage(result)
                         : PQerrorMessage(conn_);
  const std::string message =
      absl::StrCat(action, " on ", describe(), ": ", absl::StripAsciiWhitespace(text),
                   sqlstate.empty() ? "" : absl::StrCat(" (SQLSTATE ", sqlstate, ")"));
  // No SQLSTATE: libpq's own failure (the connection was lost, or never there).
  if (broken() || sqlstate.empty() || absl::StartsWith(sqlstate, kOperatorInterventionShutdown) ||
      absl::StartsWith(sqlstate, kConnectionExceptionClass)) {
    return absl::UnavailableError(message);
  }
  if (sqlstate == kSerializationFailure || sqlstate == kDeadlock)
    return absl::AbortedError(message);
  if (sqlstate == kQueryCanceled) return absl::FailedPreconditionError(message);
  // ON CONFLICT DO UPDATE given the same key twice: the caller may reduce its input first.
  if (sqlstate == kCardinalityViolation) return absl::AlreadyExistsError(message);
  return absl::InternalError(message);
}

absl::StatusOr<Result> Connection::exec(const std::string& sql, const std::vector<Param>& params,
                                        bool binary_results) {
  std::vector<int> lengths, formats;
  std::vector<const char*> pointers = values(params, &lengths, &formats);
  // Without parameters, the simple protocol: it takes several statements (a schema).
  Result result(params.empty() && !binary_results
                    ? PQexec(conn_, sql.c_str())
                    : PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                                   pointers.data(), lengths.data(), formats.data(),
                                   binary_results ? 1 : 0));
  PGresult* raw = result.result_;
  const ExecStatusType status = PQresultStatus(raw);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return error(absl::StrCat("'", sql.substr(0, 60), "'"), raw);
  }
  return result;
}

absl::Status Connection::stream(const std::string& sql, const std::vector<Param>& params,
                                const std::function<absl::Status(const Result& row)>& row) {
  std::vector<int> lengths, formats;
  std::vector<const char*> pointers = values(params, &lengths, &formats);
  if (PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                        pointers.data(), lengths.data(), formats.data(), 1) != 1) {
    return error(absl::StrCat("'", sql.substr(0, 60), "'"), nullptr);
  }
  PQsetSingleRowMode(conn_);
  absl::Status status;
  // Every result is read, even after a failure: the connection is reusable only then.
  while (PGresult* raw = PQgetResult(conn_)) {
    Result result(raw);
    switch (PQresultStatus(raw)) {
      case PGRES_SINGLE_TUPLE:
        if (status.ok()) status = row(result);
        break;
      case PGRES_TUPLES_OK:
      case PGRES_COMMAND_OK:
        break;
      default:
        if (status.ok()) status = error(absl::StrCat("'", sql.substr(0, 60), "'"), raw);
    }
  }
  return status;
}

absl::Status Connection::copyIn(
    const std::string& copy_sql,
    const std::function<absl::Status(const std::function<absl::Status(absl::string_view)>&)>&
        write) {
  {
    Result start(PQexec(conn_, copy_sql.c_str()));
    PGresult* raw = start.result_;
    if (PQresultStatus(raw) != PGRES_COPY_IN) return error("COPY", raw);
  }
  auto sink = [this](absl::string_view chunk) -> absl::Status {
    if (PQputCopyData(conn_, chunk.data(), static_cast<int>(chunk.size())) != 1) {
      return error("COPY data", nullptr);
    }
    return absl::OkStatus();
  };
  absl::Status written = write(sink);
  if (PQputCopyEnd(conn_, written.ok() ? nullptr : "the manager stopped the copy") != 1 &&
      written.ok()) {
    written = error("COPY end", nullptr);
  }
  absl::Status status = written;
  while (PGresult* raw = PQgetResult(conn_)) {
    Result result(raw);
    if (PQresultStatus(raw) != PGRES_COMMAND_OK && status.ok()) status = error("COPY", raw);
  }
  return status;
}

void BinaryCopyWriter::header(std::string* out) {
  out->append("PGCOPY\n\377\r\n\0", 11);
  putInt32(0, out);  // flags: no OIDs
  putInt32(0, out);  // no header extension
}

void BinaryCopyWriter::trailer(std::string* out) { putInt16(-1, out); }

void BinaryCopyWriter::tupleStart(int16_t fields, std::string* out) { putInt16(fields, out); }

void BinaryCopyWriter::field(absl::string_view bytes, std::string* out) {
  putInt32(static_cast<int32_t>(bytes.size()), out);
  out->append(bytes.data(), bytes.size());
}

void BinaryCopyWriter::int8Field(int64_t value, std::string* out) {
  putInt32(8, out);
  out->append(int8(value));
}

void BinaryCopyWriter::int2Field(int16_t value, std::string* out) {
  putInt32(2, out);
  putInt16(value, out);
}

void BinaryCopyWriter::boolField(bool value, std::string* out) {
  putInt32(1, out);
  out->push_back(value ? 1 : 0);
}

}  // namespace asp::manager::pg
