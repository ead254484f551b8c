// How a session call's outcome counts and is told (docs/protocol.md §5, "Failure
// streak"; the table is in docs/lifecycle.md, "Log levels").
//
// A long-running agent restarts, loses its manager for a minute, meets an overloaded
// manager: one failed sync is routine and must not raise an alarm; a lasting outage
// must. So each outcome is classed once here, the streak of failed calls is kept, and
// the log level follows from both.
#ifndef ASP_CORE_SESSION_OUTCOME_H_
#define ASP_CORE_SESSION_OUTCOME_H_

#include <cstdint>
#include <mutex>

#include "asp/core/sync_types.h"

namespace asp {

// What an outcome says about the manager and the agent.
enum class OutcomeKind {
  kSuccess,    // ok, or the mismatch an integrity check asked about: resets the streak
  kNeutral,    // nothing to do, already running, stopped, refused arguments: no change
  kTransient,  // manager not ready, timeouts, transport, manager error, prerequisites
  kProtocol,   // the manager broke the protocol
  kLocal,      // the queue failed
};

// `checked`: the call was an integrity check (a mismatch is its answer, not a failure).
OutcomeKind classify(SyncCode code, bool checked);

// The level of a call's outcome line: debug for success and "nothing to do"; info for
// stops and for transient failures while the streak is below `warning_threshold`;
// warning from there, and always for protocol errors and refused arguments; error for
// the queue's failures.
LogLevel outcomeLevel(SyncCode code, bool checked, uint64_t consecutive_failures,
                      int warning_threshold);

// The count of failed calls in a row. Thread-safe.
class FailureStreak {
 public:
  // Counts one outcome; returns the streak after it.
  uint64_t record(OutcomeKind kind);
  uint64_t current() const;

 private:
  mutable std::mutex mu_;
  uint64_t failures_ = 0;
};

}  // namespace asp

#endif  // ASP_CORE_SESSION_OUTCOME_H_
