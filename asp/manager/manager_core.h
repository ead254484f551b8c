// ManagerCore: the manager's side of a session (PROTOCOL.md §7), independent of how
// messages arrive. handle() takes one decoded message and returns the answers to send
// back to its sender (zero or one).
//
//  - Start: validated; a random non-zero session id; StartAck{OK}. Too many sessions or
//    a size above the limit: StartAck{OFFLINE}; invalid (e.g. no agent id):
//    StartAck{ERROR}. A new Start from the same agent and module replaces its session.
//  - Data (values, batches, contexts, cleans): recorded by seq in [0, size);
//    duplicates are harmless; unknown sessions are ignored.
//  - End: all seqs received -> the session is applied atomically to the StateStore and
//    answered EndAck{OK}; missing seqs -> ReqRet with their ranges, coalesced. CHECK
//    compares checksums: OK or CHECKSUM_MISMATCH. A repeated End for a session just
//    applied gets the same EndAck again; an End for an unknown session EndAck{ERROR}.
//  - Sessions idle longer than the limit are dropped.
//
// Thread-safe.
#ifndef ASP_MANAGER_MANAGER_CORE_H_
#define ASP_MANAGER_MANAGER_CORE_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asp/base/clock.h"
#include "asp/manager/state_store.h"
#include "asp/proto/wire.pb.h"

namespace asp::manager {

class ManagerCore {
 public:
  struct Options {
    size_t max_sessions = 1024;
    uint64_t max_session_size = 10'000'000;
    absl::Duration idle_timeout = absl::Minutes(5);
    size_t remembered_outcomes = 4096;
    size_t max_ranges_per_reqret = 2000;  // keeps a ReqRet well inside one datagram
    uint64_t seed = 0;                    // session ids; 0: random
    Clock* clock = nullptr;               // default: systemClock()
  };

  struct Counters {
    uint64_t sessions_started = 0;
    uint64_t sessions_applied = 0;
    uint64_t sessions_refused = 0;
    uint64_t sessions_expired = 0;
    uint64_t data_messages = 0;
    uint64_t duplicate_data = 0;
    uint64_t unknown_session = 0;
    uint64_t reqrets_sent = 0;
    uint64_t malformed = 0;
  };

  ManagerCore(Options options, StateStore* store);
  ~ManagerCore();

  std::vector<wire::v1::Message> handle(const wire::v1::Message& message);
  // The same for a message the manager may take apart (its strings are moved out).
  std::vector<wire::v1::Message> handle(wire::v1::Message&& message);
  // Parses and validates first; InvalidArgument (and no answer) for bad bytes.
  absl::StatusOr<std::vector<wire::v1::Message>> handleBytes(absl::string_view bytes);

  // Forgets every session and remembered outcome (a restart); the state stays.
  void forgetSessions();
  // Drops sessions idle past the limit (also done at each Start and End).
  void expireIdle();

  size_t activeSessions() const;
  Counters counters() const;

 private:
  struct Session;

  wire::v1::Message onStart(const wire::v1::Start& start);
  std::vector<wire::v1::Message> dispatch(wire::v1::Message* message);
  // `session` caches the last lookup (nullptr: none yet).
  void onValue(wire::v1::DataValue* value, Session** session);
  void onContext(const wire::v1::DataContext& context);
  void onClean(const wire::v1::DataClean& clean);
  void onChecksum(const wire::v1::ChecksumModule& checksum);
  wire::v1::Message onEnd(const wire::v1::End& end);
  wire::v1::Message finish(Session& session);
  Session* find(uint64_t id);
  void remember(uint64_t session, const wire::v1::Message& answer);
  void expireIdleLocked();

  const Options options_;
  StateStore* const store_;
  Clock* const clock_;
  mutable std::mutex mu_;
  std::mt19937_64 random_;
  std::map<uint64_t, std::unique_ptr<Session>> sessions_;
  std::map<std::string, uint64_t> session_by_key_;  // agent/module -> session
  std::map<uint64_t, wire::v1::Message> outcomes_;   // session -> EndAck
  std::deque<uint64_t> outcome_order_;
  Counters counters_;
};

}  // namespace asp::manager

#endif  // ASP_MANAGER_MANAGER_CORE_H_
