// What an operator watches of a running manager, as Prometheus text (the exposition
// format 0.0.4): sessions started, applied and refused by reason, changes and bytes
// applied, active sessions, apply latency. docs/manager.md "Metrics" lists every series.
//
//  - MeasuredStateStore wraps the manager's store and measures each apply (the changes
//    and document bytes a session applied, how long the store took, on the Clock), so
//    neither ManagerCore nor the stores know about metrics.
//  - prometheusText() renders a snapshot of the figures; it reads nothing itself.
//
// Thread-safe: MeasuredStateStore as its inner store; the figures are plain values.
#ifndef ASP_MANAGER_MANAGER_METRICS_H_
#define ASP_MANAGER_MANAGER_METRICS_H_

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "asp/base/clock.h"
#include "asp/manager/manager_core.h"
#include "asp/manager/state_store.h"

namespace asp::manager {

// A Prometheus histogram of durations: cumulative counts per upper bound, and the sum.
class LatencyHistogram {
 public:
  // Upper bounds in seconds (the last bucket, +Inf, is implied).
  static constexpr std::array<double, 12> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                     0.1,   0.25,   0.5,   1,    2.5,   10};
  void observe(absl::Duration duration);
  // Observations at or below kBounds[i] (cumulative, as Prometheus wants them).
  uint64_t cumulative(size_t i) const;
  uint64_t count() const { return count_; }
  double sumSeconds() const { return sum_seconds_; }

 private:
  std::array<uint64_t, kBounds.size()> buckets_{};  // per bucket, not cumulative
  uint64_t count_ = 0;
  double sum_seconds_ = 0;
};

class MeasuredStateStore final : public StateStore {
 public:
  struct Stats {
    uint64_t applies = 0;          // data sessions applied
    uint64_t changes_applied = 0;  // their ops: upserts, deletes, cleans
    uint64_t bytes_applied = 0;    // their documents' data bytes
    uint64_t apply_failures = 0;
    LatencyHistogram apply_latency;  // successful applies and failures alike
  };

  // `inner` must outlive this store; `clock` null means systemClock().
  MeasuredStateStore(StateStore* inner, Clock* clock);

  using StateStore::apply;
  absl::Status apply(const ModuleKey& key, const std::vector<std::string>& replaced_indices,
                     OpSource& ops) override;
  absl::StatusOr<IndexState> documents(const ModuleKey& key, const std::string& index) override {
    return inner_->documents(key, index);
  }
  absl::StatusOr<std::vector<std::string>> indices(const ModuleKey& key) override {
    return inner_->indices(key);
  }
  absl::StatusOr<std::string> checksum(const ModuleKey& key, const std::string& index) override {
    return inner_->checksum(key, index);
  }
  absl::Status putMetadata(const ModuleKey& key, const AgentMetadata& metadata) override {
    return inner_->putMetadata(key, metadata);
  }
  absl::StatusOr<AgentMetadata> metadata(const ModuleKey& key) override {
    return inner_->metadata(key);
  }
  absl::StatusOr<std::vector<ModuleSummary>> modules() override { return inner_->modules(); }

  Stats stats() const;

 private:
  StateStore* const inner_;
  Clock* const clock_;
  mutable std::mutex mu_;
  Stats stats_;
};

// A snapshot of everything the manager counts, taken when /metrics is asked for.
struct ManagerFigures {
  ManagerCore::Counters core;
  size_t active_sessions = 0;
  size_t buffered_bytes = 0;
  MeasuredStateStore::Stats store;
  // Datagrams per binding ("socket", "relay"), for the bindings that run.
  struct Binding {
    std::string name;
    uint64_t datagrams = 0;
    uint64_t bad_datagrams = 0;
    uint64_t answers = 0;
  };
  std::vector<Binding> bindings;
  std::optional<uint64_t> relay_streams;  // accepted relay streams, with the endpoint
};

// The figures in Prometheus' text format, every series with its HELP and TYPE.
std::string prometheusText(const ManagerFigures& figures);

}  // namespace asp::manager

#endif  // ASP_MANAGER_MANAGER_METRICS_H_
