// FakeManager: the reference manager's logic (ManagerCore, docs/protocol.md §7) in process,
// for unit tests on the simulated clock, with state per agent, module and index so tests can
// assert the manager ends up holding exactly what the module holds.
//
// Messages arrive through receive() (wire it to a FakeTransport with attach()).
// Answers are delivered to the connected callback (usually parseResponseBuffer) as
// events on the SimulatedClock, `latency` after the message that caused them.
//
// It can be scripted to misbehave: stay silent, drop answers, answer late (with
// jitter, which reorders answers), answer Start or End with a given status n times,
// lose given or random data messages (so it asks for them again), duplicate answers,
// answer with a wrong session id, and restart (forget its sessions, keep its state).
//
// Thread-safe.
#ifndef ASP_TESTING_FAKE_MANAGER_H_
#define ASP_TESTING_FAKE_MANAGER_H_

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "asp/manager/manager_core.h"
#include "asp/manager/state_store.h"
#include "asp/testing/fake_transport.h"
#include "asp/testing/simulated_clock.h"

namespace asp::testing {

class FakeManager {
 public:
  using Deliver = std::function<void(const std::string& bytes)>;

  explicit FakeManager(SimulatedClock* clock, manager::ManagerCore::Options options = {});

  // Where answers go.
  void connect(Deliver deliver);
  // Makes `transport` hand every sent message to this manager.
  void attach(FakeTransport& transport);
  void receive(const std::string& module, const std::string& bytes);

  // ---- scripts ----
  void setLatency(absl::Duration latency);
  // Each answer gets an extra random delay in [0, max] (seeded): answers may reorder.
  void setLatencyJitter(absl::Duration max, uint64_t seed);
  // While silent, no answer is sent at all.
  void setSilent(bool silent);
  // The next `count` answers are dropped.
  void dropNextAnswers(int count);
  // The next `count` Starts are answered with `status` (and otherwise ignored).
  void answerStartsWith(wire::v1::Status status, int count);
  // The next `count` Ends are answered with `status` (and otherwise ignored). For
  // PROCESSING the End is processed afterwards as usual: the agent sees `count`
  // PROCESSING answers, `processing_interval` apart, then the real one.
  void answerEndsWith(wire::v1::Status status, int count,
                      absl::Duration processing_interval = absl::Seconds(1));
  // Data messages with these seqs are lost once each (first arrival).
  void loseSeqsOnce(std::set<uint64_t> seqs);
  // Every data message is lost with probability `rate` (seeded), any transmission.
  void loseDataRandomly(double rate, uint64_t seed);
  // Every answer is delivered twice, the copy `copy_delay` after the original.
  void setDuplicateAnswers(bool duplicate, absl::Duration copy_delay = absl::ZeroDuration());
  // The next `count` EndAcks or ReqRets carry a different session id.
  void corruptSessionOfNextAnswers(int count);
  // The next message of `kind` (kStart or kEnd) is answered with the bytes
  // `make(session)` returns instead of the real answer (malformed or out-of-range
  // answers); `session` is the End's session, 0 for a Start. Calls queue up: each
  // replaces one more message of that kind.
  void replaceNextAnswer(wire::v1::Message::ContentCase kind,
                         std::function<std::string(uint64_t session)> make);
  void replaceNextEndAnswer(std::function<std::string(uint64_t session)> make) {
    replaceNextAnswer(wire::v1::Message::kEnd, std::move(make));
  }
  // Forgets every session and remembered outcome; keeps the state.
  void restart();

  // ---- inspection ----
  manager::IndexState documents(const manager::ModuleKey& key, const std::string& index);
  std::vector<std::string> indices(const manager::ModuleKey& key);
  std::string checksum(const manager::ModuleKey& key, const std::string& index);
  manager::InMemoryStateStore& store() { return store_; }
  manager::ManagerCore::Counters counters() { return core_.counters(); }
  // The context documents (as upserts, in seq order) of `key`'s latest applied session
  // that carried any; empty if none did. Only when the options given had no on_contexts.
  std::vector<manager::SessionUpdate::Op> lastContexts(const manager::ModuleKey& key);
  uint64_t dataLost();
  int received(wire::v1::Message::ContentCase kind);
  // Simulated time (since the clock started) at which each message of `kind` arrived.
  std::vector<absl::Duration> arrivals(wire::v1::Message::ContentCase kind);

 private:
  // Filters an incoming message (losses); false when it is dropped entirely.
  bool loseData(wire::v1::Message* message);
  void answer(wire::v1::Message message, absl::Duration extra_delay = absl::ZeroDuration());

  SimulatedClock* const clock_;
  std::mutex contexts_mu_;  // the core's on_contexts writes under the core's own lock
  std::map<manager::ModuleKey, std::vector<manager::SessionUpdate::Op>> contexts_;
  manager::InMemoryStateStore store_;
  manager::ManagerCore core_;

  std::mutex mu_;
  Deliver deliver_;
  absl::Duration latency_ = absl::Milliseconds(1);
  absl::Duration jitter_ = absl::ZeroDuration();
  std::mt19937_64 random_{1};
  bool silent_ = false;
  int drop_answers_ = 0;
  int start_overrides_ = 0;
  wire::v1::Status start_status_ = wire::v1::STATUS_OK;
  int end_overrides_ = 0;
  wire::v1::Status end_status_ = wire::v1::STATUS_OK;
  absl::Duration processing_interval_ = absl::Seconds(1);
  std::set<uint64_t> lose_once_;
  double loss_rate_ = 0;
  std::bernoulli_distribution loss_;
  bool duplicate_ = false;
  absl::Duration duplicate_delay_ = absl::ZeroDuration();
  int corrupt_sessions_ = 0;
  std::map<int, std::deque<std::function<std::string(uint64_t)>>> replacements_;
  uint64_t lost_ = 0;
  std::map<int, int> received_;
  std::map<int, std::vector<absl::Duration>> arrivals_;
};

}  // namespace asp::testing

#endif  // ASP_TESTING_FAKE_MANAGER_H_
