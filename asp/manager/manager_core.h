// ManagerCore: the manager's side of a session (docs/protocol.md §7), independent of how
// messages arrive. handle() takes one decoded message and returns the answers to send
// back to its sender (zero or one).
//
//  - Start: validated; a random non-zero session id from a cryptographic source;
//    StartAck{OK}. Invalid (e.g. no agent id): StartAck{ERROR}. Too many sessions (in
//    all, or for this agent) or a size above the limit: StartAck{OFFLINE}. A refused
//    Start leaves the live session of its agent and module untouched. A Start identical
//    to the live session's that arrives before any of its data is a resend: it gets the
//    same session id again. Any other new Start from the same agent and module replaces
//    that session.
//  - Data (values, batches, contexts, cleans): recorded by seq in [0, size); duplicates
//    are harmless; unknown sessions are ignored. Contexts are kept apart from the index
//    state, with their session, and handed to Options::on_contexts when it is applied.
//  - End: all seqs received -> the session is applied atomically to the StateStore and
//    answered EndAck{OK}; missing seqs -> ReqRet with their ranges, coalesced. CHECK
//    compares checksums: OK or CHECKSUM_MISMATCH. A repeated End for a session just
//    applied gets the same EndAck again; an End for an unknown session EndAck{ERROR}. A
//    store that cannot apply (a full disk) is logged and counted, and answered ERROR.
//  - Memory is bounded by configuration whatever senders announce or send: nothing is
//    allocated in proportion to a Start's size; received data beyond max_buffered_bytes
//    goes to disk (asp/manager/session_data.h); memory is given back when sessions end.
//  - Sessions idle longer than the limit are dropped. When the table is full, a Start
//    may take the place of the session idle longest, once it has been idle a while.
//
// Thread-safe.
#ifndef ASP_MANAGER_MANAGER_CORE_H_
#define ASP_MANAGER_MANAGER_CORE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "asp/base/clock.h"
#include "asp/manager/session_data.h"
#include "asp/manager/state_store.h"
#include "asp/proto/wire.pb.h"

namespace asp::manager {

// The context documents (DataContext, docs/protocol.md §7) of one applied session: kept
// apart from the index state (they never reach the StateStore), with the session they
// came in, and handed to Options::on_contexts once that session is applied.
struct SessionContexts {
  ModuleKey key;  // whose: the session's agent and module
  uint64_t session = 0;
  wire::v1::Option option = wire::v1::OPTION_SYNC;  // the session's (VD_FIRST, VD_SYNC)
  // The documents in seq order, as upserts (index, id, data), read one at a time: a
  // session's data may be on disk (session_data.h).
  OpSource* documents = nullptr;
};
// Consumes a session's context documents (a vulnerability scan, say). An error answers
// the session ERROR (its values are applied already; the agent sends it all again, which
// is harmless). Called under the manager's lock: it must not call into the ManagerCore.
using ContextSink = std::function<absl::Status(const SessionContexts& contexts)>;

class ManagerCore {
 public:
  struct Options {
    size_t max_sessions = 1024;
    // Sessions one agent id may hold at once (one per module, usually a handful).
    size_t max_sessions_per_agent = 16;
    uint64_t max_session_size = 10'000'000;
    // Received data held in memory across all sessions; beyond it, on disk.
    size_t max_buffered_bytes = size_t{256} << 20;
    absl::Duration idle_timeout = absl::Minutes(5);
    // With the table full, a session idle this long gives its place to a new Start.
    absl::Duration evict_after_idle = absl::Seconds(30);
    size_t remembered_outcomes = 4096;
    size_t max_ranges_per_reqret = 2000;  // keeps a ReqRet well inside one datagram
    // Session ids. 0: from OpenSSL's CSPRNG (unguessable). Otherwise a predictable
    // sequence from this seed, for tests only.
    uint64_t seed = 0;
    Clock* clock = nullptr;  // default: systemClock()
    // Receives a line for each failure an operator must see (a store that cannot apply).
    std::function<void(absl::string_view)> log;
    // Receives the context documents of each applied session that carried any, once
    // its values are applied. None: they are dropped with the session.
    ContextSink on_contexts;
  };

  struct Counters {
    uint64_t sessions_started = 0;
    uint64_t sessions_applied = 0;
    uint64_t sessions_refused = 0;     // all refused Starts, the four below and invalid
    uint64_t refused_invalid = 0;      // StartAck ERROR
    uint64_t refused_too_large = 0;    // size above max_session_size
    uint64_t refused_table_full = 0;   // max_sessions reached
    uint64_t refused_agent_limit = 0;  // max_sessions_per_agent reached
    uint64_t sessions_resent = 0;      // identical Starts answered with the same id
    uint64_t sessions_replaced = 0;    // a new Start replaced a live session
    uint64_t sessions_expired = 0;
    uint64_t sessions_evicted = 0;  // gave their place to a Start with the table full
    uint64_t sessions_spilled = 0;  // whose data went to disk
    uint64_t apply_failures = 0;    // the store could not apply: EndAck ERROR
    uint64_t data_messages = 0;
    uint64_t contexts_delivered = 0;  // context documents handed to on_contexts
    uint64_t duplicate_data = 0;
    uint64_t unknown_session = 0;
    uint64_t reqrets_sent = 0;
    uint64_t malformed = 0;
    std::string last_apply_error;
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
  // Received session data held in memory now.
  size_t bufferedBytes() const;
  Counters counters() const;

 private:
  struct Session;

  wire::v1::Message onStart(const wire::v1::Start& start);
  // Why a Start cannot open a session now (OFFLINE), or nullptr if it can. `replacing`
  // is the live session it would replace (not counted against the limits), or null.
  const char* refusal(const wire::v1::Start& start, const Session* replacing);
  std::vector<wire::v1::Message> dispatch(wire::v1::Message* message);
  // `session` caches the last lookup (nullptr: none yet).
  void onValue(wire::v1::DataValue* value, Session** session);
  void onContext(wire::v1::DataContext* context);
  void onClean(const wire::v1::DataClean& clean);
  void onChecksum(const wire::v1::ChecksumModule& checksum);
  wire::v1::Message onEnd(const wire::v1::End& end);
  wire::v1::Message retransmissionRequest(Session& session);
  wire::v1::Message finish(Session& session);
  wire::v1::Message applyData(Session& session);
  // Hands the applied session's context documents to on_contexts.
  absl::Status deliverContexts(const Session& session, OpSource* documents);
  void record(Session& session, uint64_t seq, SessionUpdate::Op op, bool context);
  Session* find(uint64_t id);
  uint64_t newSessionId();
  void remember(uint64_t session, const wire::v1::Message& answer);
  // Removes a session, giving its memory back.
  void erase(uint64_t id);
  void expireIdleLocked();
  // Removes the session idle longest, if idle long enough (never `keep`).
  bool evictOneIdle(const Session* keep);
  void logError(const std::string& line);
  // Counts memory sessions gave back; trims the heap every 16 MiB of it.
  void giveMemoryBack(size_t freed);

  const Options options_;
  StateStore* const store_;
  Clock* const clock_;
  mutable std::mutex mu_;
  std::mt19937_64 predictable_;  // only when options_.seed != 0
  MemoryBudget budget_;
  SpillStore spill_;
  std::map<uint64_t, std::unique_ptr<Session>> sessions_;
  std::map<std::string, uint64_t> session_by_key_;  // agent/module -> session
  std::map<std::string, size_t> sessions_by_agent_;
  std::map<uint64_t, wire::v1::Message> outcomes_;  // session -> EndAck
  std::deque<uint64_t> outcome_order_;
  Counters counters_;
  size_t freed_since_trim_ = 0;
};

}  // namespace asp::manager

#endif  // ASP_MANAGER_MANAGER_CORE_H_
