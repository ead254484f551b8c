#include "asp/manager/manager_metrics.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace asp::manager {
namespace {

// Hands out another source's ops, counting them and their data bytes.
class CountingOpSource final : public OpSource {
 public:
  explicit CountingOpSource(OpSource& inner) : inner_(inner) {}
  absl::StatusOr<bool> next(SessionUpdate::Op* op) override {
    absl::StatusOr<bool> more = inner_.next(op);
    if (more.ok() && *more) {
      ++ops_;
      bytes_ += op->data.size();
    }
    return more;
  }
  size_t sizeHint() const override { return inner_.sizeHint(); }
  HeldOpList* takeHeld() override {
    HeldOpList* held = inner_.takeHeld();
    if (held != nullptr) {
      ops_ += held->size();
      for (size_t i = 0; i < held->size(); ++i) bytes_ += held->op(i).data.size();
    }
    return held;
  }
  uint64_t ops() const { return ops_; }
  uint64_t bytes() const { return bytes_; }

 private:
  OpSource& inner_;
  uint64_t ops_ = 0;
  uint64_t bytes_ = 0;
};

// Appends one series' HELP and TYPE lines.
void describe(std::string* out, absl::string_view name, absl::string_view type,
              absl::string_view help) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

void counter(std::string* out, absl::string_view name, absl::string_view help, uint64_t value) {
  describe(out, name, "counter", help);
  absl::StrAppend(out, name, " ", value, "\n");
}

void gauge(std::string* out, absl::string_view name, absl::string_view help, uint64_t value) {
  describe(out, name, "gauge", help);
  absl::StrAppend(out, name, " ", value, "\n");
}

void sessionSeries(std::string* out, const ManagerFigures& f) {
  const ManagerCore::Counters& c = f.core;
  counter(out, "asp_manager_sessions_started_total", "Sessions opened (StartAck OK).",
          c.sessions_started);
  counter(out, "asp_manager_sessions_applied_total",
          "Sessions that ended OK: data applied, checks and metadata answered.",
          c.sessions_applied);
  describe(
      out, "asp_manager_sessions_refused_total", "counter",
      "Starts refused, by reason (OFFLINE: too_large, table_full, agent_limit; ERROR: invalid).");
  for (const auto& [reason, value] :
       {std::pair<const char*, uint64_t>{"invalid", c.refused_invalid},
        {"too_large", c.refused_too_large},
        {"table_full", c.refused_table_full},
        {"agent_limit", c.refused_agent_limit}}) {
    absl::StrAppend(out, "asp_manager_sessions_refused_total{reason=\"", reason, "\"} ", value,
                    "\n");
  }
  counter(out, "asp_manager_sessions_expired_total", "Sessions dropped after idling too long.",
          c.sessions_expired);
  counter(out, "asp_manager_sessions_evicted_total",
          "Idle sessions that gave their place to a Start with the table full.",
          c.sessions_evicted);
  counter(out, "asp_manager_sessions_replaced_total",
          "Live sessions replaced by a new Start of the same agent and module.",
          c.sessions_replaced);
  counter(out, "asp_manager_reqrets_total", "Retransmission requests sent.", c.reqrets_sent);
  counter(out, "asp_manager_apply_failures_total",
          "Sessions the store could not apply (answered EndAck ERROR).", c.apply_failures);
  gauge(out, "asp_manager_active_sessions", "Sessions open now.", f.active_sessions);
  gauge(out, "asp_manager_buffered_bytes", "Received session data held in memory now.",
        f.buffered_bytes);
}

void storeSeries(std::string* out, const MeasuredStateStore::Stats& s) {
  counter(out, "asp_manager_changes_applied_total",
          "Changes (upserts, deletes, cleans) of data sessions applied to the store.",
          s.changes_applied);
  counter(out, "asp_manager_applied_bytes_total", "Document bytes of data sessions applied.",
          s.bytes_applied);
  const absl::string_view name = "asp_manager_apply_duration_seconds";
  describe(out, name, "histogram", "Time the store took to apply a data session.");
  for (size_t i = 0; i < LatencyHistogram::kBounds.size(); ++i) {
    absl::StrAppend(out, name, "_bucket{le=\"", LatencyHistogram::kBounds[i], "\"} ",
                    s.apply_latency.cumulative(i), "\n");
  }
  absl::StrAppend(out, name, "_bucket{le=\"+Inf\"} ", s.apply_latency.count(), "\n");
  absl::StrAppend(out, name, "_sum ", absl::StrFormat("%.6f", s.apply_latency.sumSeconds()), "\n");
  absl::StrAppend(out, name, "_count ", s.apply_latency.count(), "\n");
}

void bindingSeries(std::string* out, const ManagerFigures& f) {
  struct Series {
    const char* name;
    const char* help;
    uint64_t ManagerFigures::Binding::*value;
  };
  for (const Series& series :
       {Series{"asp_manager_datagrams_total", "Protocol messages received.",
               &ManagerFigures::Binding::datagrams},
        Series{"asp_manager_bad_datagrams_total", "Datagrams that were not a valid message.",
               &ManagerFigures::Binding::bad_datagrams},
        Series{"asp_manager_answers_total", "Answers sent.", &ManagerFigures::Binding::answers}}) {
    describe(out, series.name, "counter", series.help);
    for (const ManagerFigures::Binding& binding : f.bindings) {
      absl::StrAppend(out, series.name, "{binding=\"", binding.name, "\"} ", binding.*series.value,
                      "\n");
    }
  }
  if (f.relay_streams.has_value()) {
    counter(out, "asp_manager_relay_streams_total", "Relay streams accepted.", *f.relay_streams);
  }
}

}  // namespace

void LatencyHistogram::observe(absl::Duration duration) {
  const double seconds = absl::ToDoubleSeconds(duration);
  ++count_;
  sum_seconds_ += seconds;
  for (size_t i = 0; i < kBounds.size(); ++i) {
    if (seconds <= kBounds[i]) {
      ++buckets_[i];
      return;
    }
  }
}

uint64_t LatencyHistogram::cumulative(size_t i) const {
  uint64_t total = 0;
  for (size_t b = 0; b <= i && b < buckets_.size(); ++b) total += buckets_[b];
  return total;
}

MeasuredStateStore::MeasuredStateStore(StateStore* inner, Clock* clock)
    : inner_(inner), clock_(clock != nullptr ? clock : systemClock()) {}

absl::Status MeasuredStateStore::apply(const ModuleKey& key,
                                       const std::vector<std::string>& replaced_indices,
                                       OpSource& ops) {
  CountingOpSource counted(ops);
  const absl::Time started = clock_->now();
  absl::Status status = inner_->apply(key, replaced_indices, counted);
  const absl::Duration took = clock_->now() - started;
  std::lock_guard<std::mutex> lock(mu_);
  stats_.apply_latency.observe(took);
  if (!status.ok()) {
    ++stats_.apply_failures;
    return status;
  }
  ++stats_.applies;
  stats_.changes_applied += counted.ops();
  stats_.bytes_applied += counted.bytes();
  return status;
}

MeasuredStateStore::Stats MeasuredStateStore::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

std::string prometheusText(const ManagerFigures& figures) {
  std::string out;
  sessionSeries(&out, figures);
  storeSeries(&out, figures.store);
  bindingSeries(&out, figures);
  return out;
}

}  // namespace asp::manager
