// The figures an operator reads: what MeasuredStateStore counts and times (on a simulated
// clock), how they read as Prometheus text, the status page's escaping, and the HTTP
// listener's errors. The whole manager process is tested in
// asp/tools/manager_http_test.cc.

#include "asp/manager/manager_metrics.h"

#include "asp/manager/http_endpoint.h"
#include "asp/manager/status_page.h"
#include "asp/testing/simulated_clock.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace asp::manager {
namespace {

using Kind = SessionUpdate::Op::Kind;

// Hands out ops, each taking `per_op` of the clock's time (a store writing them).
class SlowOpSource final : public OpSource {
 public:
  SlowOpSource(std::vector<SessionUpdate::Op> ops, testing::SimulatedClock* clock,
               absl::Duration per_op)
      : ops_(std::move(ops)), source_(&ops_), clock_(clock), per_op_(per_op) {}
  absl::StatusOr<bool> next(SessionUpdate::Op* op) override {
    clock_->advance(per_op_);
    return source_.next(op);
  }

 private:
  std::vector<SessionUpdate::Op> ops_;
  VectorOpSource source_;
  testing::SimulatedClock* clock_;
  absl::Duration per_op_;
};

bool has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(ManagerMetricsTest, AppliedSessionsCountTheirChangesBytesAndTime) {
  testing::SimulatedClock clock(testing::SimulatedClock::Mode::kManual);
  InMemoryStateStore inner;
  MeasuredStateStore store(&inner, &clock);
  SlowOpSource ops({{Kind::kUpsert, "idx", "a", "12345", 1},
                    {Kind::kUpsert, "idx", "b", "67", 1},
                    {Kind::kDelete, "idx", "a", "", 0}},
                   &clock, absl::Milliseconds(10));
  ASSERT_TRUE(store.apply({"001", "fim"}, {}, ops).ok());

  ManagerFigures figures;
  figures.store = store.stats();
  const std::string text = prometheusText(figures);
  EXPECT_TRUE(has(text, "asp_manager_changes_applied_total 3")) << text;
  EXPECT_TRUE(has(text, "asp_manager_applied_bytes_total 7")) << text;
  // Four reads of the source (three ops and the end) took 40 ms.
  EXPECT_TRUE(has(text, "asp_manager_apply_duration_seconds_bucket{le=\"0.025\"} 0")) << text;
  EXPECT_TRUE(has(text, "asp_manager_apply_duration_seconds_bucket{le=\"0.05\"} 1")) << text;
  EXPECT_TRUE(has(text, "asp_manager_apply_duration_seconds_bucket{le=\"+Inf\"} 1")) << text;
  EXPECT_TRUE(has(text, "asp_manager_apply_duration_seconds_sum 0.040000")) << text;
  EXPECT_EQ(inner.documents({"001", "fim"}, "idx")->size(), 1u) << "the inner store applied it";
}

// A session held in memory is handed to the store at once (OpSource::takeHeld), not op by
// op: it is counted all the same.
TEST(ManagerMetricsTest, SessionsHeldInMemoryAreCountedAsTheyAreApplied) {
  testing::SimulatedClock clock(testing::SimulatedClock::Mode::kManual);
  InMemoryStateStore inner;
  MeasuredStateStore store(&inner, &clock);
  SessionUpdate update;
  update.ops = {{Kind::kUpsert, "idx", "a", "12345", 1},
                {Kind::kUpsert, "idx", "b", "67", 1},
                {Kind::kDelete, "idx", "a", "", 0}};
  ASSERT_TRUE(store.apply({"001", "fim"}, std::move(update)).ok());

  EXPECT_EQ(store.stats().applies, 1u);
  EXPECT_EQ(store.stats().changes_applied, 3u);
  EXPECT_EQ(store.stats().bytes_applied, 7u);
  absl::StatusOr<IndexState> documents = inner.documents({"001", "fim"}, "idx");
  ASSERT_TRUE(documents.ok());
  ASSERT_EQ(documents->size(), 1u);
  EXPECT_EQ(documents->at("b").data, "67");
}

// Fails half-way through its ops: the session is not applied.
class FailingOpSource final : public OpSource {
 public:
  absl::StatusOr<bool> next(SessionUpdate::Op* op) override {
    if (handed_out_++ == 0) {
      *op = {Kind::kUpsert, "idx", "a", "data", 1};
      return true;
    }
    return absl::DataLossError("spill file damaged");
  }

 private:
  int handed_out_ = 0;
};

TEST(ManagerMetricsTest, AFailedApplyCountsAsAFailureAndNoChanges) {
  InMemoryStateStore inner;
  MeasuredStateStore store(&inner, nullptr);
  FailingOpSource ops;
  EXPECT_FALSE(store.apply({"001", "fim"}, {}, ops).ok());
  const MeasuredStateStore::Stats stats = store.stats();
  EXPECT_EQ(stats.apply_failures, 1u);
  EXPECT_EQ(stats.changes_applied, 0u);
  EXPECT_EQ(stats.applies, 0u);
}

TEST(ManagerMetricsTest, RefusalsReadByReason) {
  ManagerFigures figures;
  figures.core.refused_table_full = 4;
  figures.core.refused_too_large = 2;
  figures.active_sessions = 7;
  figures.bindings = {{"socket", 10, 1, 9}, {"relay", 5, 0, 5}};
  const std::string text = prometheusText(figures);
  EXPECT_TRUE(has(text, "asp_manager_sessions_refused_total{reason=\"table_full\"} 4")) << text;
  EXPECT_TRUE(has(text, "asp_manager_sessions_refused_total{reason=\"too_large\"} 2")) << text;
  EXPECT_TRUE(has(text, "asp_manager_active_sessions 7")) << text;
  EXPECT_TRUE(has(text, "asp_manager_datagrams_total{binding=\"relay\"} 5")) << text;
  EXPECT_TRUE(has(text, "# TYPE asp_manager_sessions_refused_total counter")) << text;
}

TEST(StatusPageTest, WhatAgentsSentIsEscaped) {
  StatusView view;
  ModuleSummary module;
  module.key = {"<script>alert(1)</script>", "fim&co"};
  module.documents["a\"b"] = 3;
  view.modules = {module};
  view.failures = {{absl::UnixEpoch(), "apply of agent '<x>' failed"}};
  const std::string page = statusPage(view);
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(page.find("fim&amp;co"), std::string::npos);
  EXPECT_NE(page.find("a&quot;b: 3"), std::string::npos);
  EXPECT_NE(page.find("agent &#39;&lt;x&gt;&#39; failed"), std::string::npos);
}

TEST(StatusPageTest, RecentFailuresKeepTheNewest) {
  testing::SimulatedClock clock;
  RecentFailures failures(2, &clock);
  failures.add("one");
  failures.add("two");
  failures.add("three");
  const std::vector<RecentFailures::Entry> kept = failures.entries();
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].line, "two");
  EXPECT_EQ(kept[1].line, "three");
}

HttpEndpoint::Options pages() {
  HttpEndpoint::Options options;
  options.metrics = [] { return std::string("asp_manager_active_sessions 0\n"); };
  options.status_page = [] { return std::string("<html>status</html>"); };
  return options;
}

TEST(HttpEndpointTest, ServesMetricsAndTheStatusPage) {
  absl::StatusOr<std::unique_ptr<HttpEndpoint>> endpoint = HttpEndpoint::start(pages());
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  httplib::Client client("127.0.0.1", (*endpoint)->port());
  httplib::Result metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics) << httplib::to_string(metrics.error());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->body, "asp_manager_active_sessions 0\n");
  EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  httplib::Result page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->body, "<html>status</html>");
  EXPECT_EQ(client.Get("/nothing")->status, 404);
}

TEST(HttpEndpointTest, APortInUseIsAnErrorSayingSo) {
  absl::StatusOr<std::unique_ptr<HttpEndpoint>> first = HttpEndpoint::start(pages());
  ASSERT_TRUE(first.ok()) << first.status();
  HttpEndpoint::Options options = pages();
  options.listen = (*first)->address();
  absl::StatusOr<std::unique_ptr<HttpEndpoint>> second = HttpEndpoint::start(options);
  ASSERT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists) << second.status();
  EXPECT_NE(second.status().message().find(options.listen), absl::string_view::npos);
  EXPECT_NE(second.status().message().find("in use"), absl::string_view::npos) << second.status();
}

TEST(HttpEndpointTest, AnAddressThatDoesNotParseIsNamed) {
  for (const std::string bad : {"localhost:http", "127.0.0.1:70000", "[::1]9100", ":80"}) {
    HttpEndpoint::Options options = pages();
    options.listen = bad;
    absl::Status status = HttpEndpoint::start(options).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(status.message().find(bad), absl::string_view::npos) << status;
  }
}

TEST(HttpEndpointTest, ABarePortMeansLoopback) {
  std::string host;
  int port = 0;
  ASSERT_TRUE(parseListenAddress("9100", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 9100);
  ASSERT_TRUE(parseListenAddress("[::1]:9101", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 9101);
}

}  // namespace
}  // namespace asp::manager
