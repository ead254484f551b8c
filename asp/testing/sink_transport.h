// SinkTransport: an in-process manager for benchmarks and large-load tests that
// answers correctly and keeps nothing heavy (FakeTransport decodes and keeps every
// message; this one scans).
//
// send() decodes each message. A Start is answered StartAck{OK, session_id} and an End
// EndAck{OK, session_id}, synchronously: the answer handler (the protocol's
// parseResponseBuffer) is called from inside send(), which the core allows (it holds
// no lock while sending). Of a data batch it reads each value's seq and session with a
// wire-format scan (no allocation: the data is not kept) and marks the seq in a bitmap
// sized by the Start, counting duplicates, seqs out of range and values of another
// session, so that the bench can prove every change arrived exactly once. It also
// notes when the Start and the End were handed over, which splits the session into
// its phases, and the time spent inside send() (the sink's own cost).
//
// Thread-compatible: one send() at a time (as Transport requires); read tally() once
// the session has returned.
#ifndef ASP_TESTING_SINK_TRANSPORT_H_
#define ASP_TESTING_SINK_TRANSPORT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "asp/proto/wire.pb.h"
#include "asp/transport/transport.h"

namespace asp::testing {

class SinkTransport final : public Transport {
 public:
  using SteadyClock = std::chrono::steady_clock;

  // Accepts messages of `module`; answers with `session_id`, and counts values of any
  // other session as wrong_session.
  SinkTransport(std::string module, uint64_t session_id)
      : module_(std::move(module)), session_id_(session_id) {}

  // Takes a serialized answer; AgentSyncProtocol::parseResponseBuffer.
  using AnswerHandler = std::function<absl::Status(const uint8_t* data, size_t length)>;

  struct Tally {
    uint64_t start_size = 0;  // data messages announced by the Start
    uint64_t values = 0;      // data values received
    uint64_t distinct = 0;    // distinct seqs in [0, start_size) among them
    uint64_t duplicates = 0;
    uint64_t out_of_range = 0;     // seq >= start_size
    uint64_t wrong_session = 0;    // values or End of another session
    uint64_t malformed = 0;        // messages that did not decode, or for another module
    uint64_t answers_refused = 0;  // answers the handler rejected
    uint64_t messages = 0;         // every message handed to send()
    uint64_t message_bytes = 0;
    bool started = false;
    bool ended = false;
    SteadyClock::time_point start_at;  // when the Start was handed over
    SteadyClock::time_point end_at;    // when the End was handed over
    double send_seconds = 0;           // time spent inside send(), answers included

    // Every seq of 0..start_size-1 exactly once, and nothing else.
    bool allValuesOnce() const {
      return distinct == start_size && values == start_size && duplicates == 0 &&
             out_of_range == 0 && wrong_session == 0 && malformed == 0;
    }
    // A whole session: Start, every value once, End, and every answer accepted.
    bool complete() const { return started && ended && allValuesOnce() && answers_refused == 0; }
  };

  // Consecutive sessions (a bounded DELTA): a Start after an End closes the session
  // tallied so far and begins the next one's tally.
  struct Drain {
    uint64_t sessions = 0;           // closed sessions
    uint64_t complete_sessions = 0;  // of those, complete() ones
    uint64_t values = 0;             // distinct seqs over all of them
  };

  void setAnswerHandler(AnswerHandler handler) { handler_ = std::move(handler); }
  // Forgets the previous session's tally and bitmap.
  void reset();
  // For a plain sender that sends data batches but no Start: expect seqs 0..size-1.
  void expect(uint64_t size);

  absl::Status send(absl::string_view module, absl::string_view message) override;

  const Tally& tally() const { return tally_; }
  // Every session so far, the current one included if it ended.
  Drain drain() const;
  // What went wrong, when !tally().complete(): the counts, in words.
  std::string describe() const;

 private:
  void onStart(absl::string_view message, SteadyClock::time_point at);
  void onEnd(absl::string_view message, SteadyClock::time_point at);
  bool scanBatch(absl::string_view message);
  void onValue(uint64_t seq, uint64_t session);
  void answer(const wire::v1::Message& message);

  const std::string module_;
  const uint64_t session_id_;
  AnswerHandler handler_;
  Tally tally_;
  Drain closed_;                // the sessions before the current tally
  std::vector<uint64_t> seen_;  // bitmap of the seqs received
};

}  // namespace asp::testing

#endif  // ASP_TESTING_SINK_TRANSPORT_H_
