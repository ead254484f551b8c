// AnswerChannel: hands the manager's answers from parseResponseBuffer() (any thread)
// to the session thread, and carries stop().
//
// The session declares what it expects (open(phase, session)); deliver() accepts only
// an answer that fits: a StartAck while awaiting one, an EndAck or ReqRet for the
// current session while awaiting the end. Anything else — wrong session, wrong phase,
// or a byte-for-byte repeat of an answer already accepted since the session last sent
// (a duplicate; PROCESSING heartbeats excepted) — is ignored and counted. Waits go
// through the Clock, wake at once on an answer or stop(), and return at their deadline.
//
// Thread-safe.
#ifndef ASP_CORE_ANSWER_CHANNEL_H_
#define ASP_CORE_ANSWER_CHANNEL_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <set>
#include <string>

#include "absl/time/time.h"
#include "asp/base/clock.h"
#include "asp/proto/wire.pb.h"

namespace asp {

class AnswerChannel {
 public:
  enum class Phase { kIdle, kAwaitStartAck, kData, kAwaitEnd };
  enum class Wait { kAnswer, kTimeout, kStopped, kViolation };
  enum class Delivery { kAccepted, kIgnored, kDuplicate };

  explicit AnswerChannel(Clock* clock) : clock_(clock) {}

  // Session side. open() sets what is expected and forgets queued answers and the
  // duplicate memory; newRound() forgets only the duplicate memory (call it whenever
  // the request is sent again, since a repeated answer is then legitimate).
  void open(Phase phase, uint64_t session);
  void newRound();
  void close() { open(Phase::kIdle, 0); }

  // Waits until an accepted answer is available (moved into *answer), `deadline`
  // passes, stop() is called, or a violation is delivered (kViolation: take it with
  // takeViolation()). Answers win over a deadline already passed.
  Wait wait(absl::Time deadline, wire::v1::Message* answer);
  // Waits until `deadline` unless stopped first; false when stopped. Answers that
  // arrive meanwhile stay queued.
  bool sleepUntil(absl::Time deadline);

  // Delivery side: `bytes` are the answer's encoding (for duplicate detection).
  Delivery deliver(wire::v1::Message answer, const std::string& bytes);
  // An answer for the current exchange that breaks the protocol; the session fails.
  // Returns false (and does nothing) when it does not belong to the current exchange.
  bool deliverViolation(const wire::v1::Message& answer, std::string reason);
  // Takes the violation recorded by deliverViolation, if any.
  bool takeViolation(std::string* reason);

  // Whether a (possibly invalid) answer belongs to the current exchange.
  bool expects(const wire::v1::Message& answer);

  void stop();
  void reset();
  bool stopped();

 private:
  bool expectsLocked(const wire::v1::Message& answer) const;

  Clock* const clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  Phase phase_ = Phase::kIdle;
  uint64_t session_ = 0;
  std::deque<wire::v1::Message> answers_;
  std::set<std::string> accepted_bytes_;
  std::string violation_;
  bool has_violation_ = false;
  bool stopped_ = false;
};

}  // namespace asp

#endif  // ASP_CORE_ANSWER_CHANNEL_H_
