// ManagerFaults: a manager that misbehaves on purpose, for tests and the demo: it drops
// a fraction of the incoming data datagrams (the manager then asks for them again with
// ReqRet), handles a fraction of all datagrams twice (so data and answers are
// duplicated), and delays every answer. Plugged into ManagerServer and
// RelayEndpoint through their InboundFilter seam; counters say exactly how many data
// values it dropped.
//
// Thread-safe.
#ifndef ASP_TESTING_MANAGER_FAULTS_H_
#define ASP_TESTING_MANAGER_FAULTS_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <random>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asp/manager/inbound_filter.h"

namespace asp::testing {

class ManagerFaults final : public manager::InboundFilter {
 public:
  struct Options {
    double drop_rate = 0;       // incoming data datagrams dropped, 0..1
    double duplicate_rate = 0;  // incoming datagrams handled twice, 0..1
    absl::Duration answer_delay = absl::ZeroDuration();
    uint64_t seed = 0;  // 0: random
  };

  struct Counters {
    uint64_t dropped_datagrams = 0;
    uint64_t dropped_values = 0;  // data messages inside the dropped datagrams
    uint64_t duplicated = 0;
  };

  // InvalidArgument for a rate outside [0, 1] or a negative delay, naming it.
  static absl::StatusOr<std::unique_ptr<ManagerFaults>> create(Options options);

  int copies(absl::string_view message) override;
  absl::Duration answerDelay() override { return options_.answer_delay; }

  Counters counters() const;

 private:
  explicit ManagerFaults(Options options);

  const Options options_;
  mutable std::mutex mu_;  // guards random_ and counters_
  std::mt19937_64 random_;
  Counters counters_;
};

// The number of data messages (values, contexts, cleans) in a serialized agent message;
// 0 for control messages and bytes that do not parse.
uint64_t dataMessages(absl::string_view message);

}  // namespace asp::testing

#endif  // ASP_TESTING_MANAGER_FAULTS_H_
