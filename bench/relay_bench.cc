// //bench:relay_bench: the relay binding (docs/protocol.md §9) measured beside the local
// socket it extends, in one run.
//
//   ./bazelw run -c opt //bench:relay_bench [-- --changes=N --modules=M --module_changes=K]
//
// 1. Throughput. A DELTA session of N (default 1,000,000) file-integrity-like changes
//    (fim_backlog.h) from AgentSyncProtocol through asp::relay::Relay, gRPC with mutual
//    TLS and gzip over loopback TCP, to RelayEndpoint -> ManagerCore ->
//    InMemoryStateStore (relay_deployment.h), against the same session over the local
//    Unix socket to ManagerServer (SocketDeployment). Everything in this process, on the
//    same two cores: the relay and the manager would be on different hosts in a fleet,
//    so this is the harder case. After each session the manager must hold exactly the N
//    documents. Changes per second; target ratio relay/local >= 0.5.
// 2. Wire bytes. In the relay rounds: the TCP payload bytes the relay's connection sent
//    (the kernel's TCP_INFO: TLS records of HTTP/2 frames of gzip-compressed messages)
//    over the agent datagram bytes it carried. Target <= 0.35.
// 3. Latency. Sessions of one change (persistDifference, then synchronizeModule timed)
//    through the relay; median < 2 ms. The local socket's alongside, for scale.
// 4. Memory. A relay in its own process (forked at start, before any thread) while M
//    (default 100) modules, each its own queue of K (default 2,000) changes, sync at
//    once through it; its peak resident memory (VmHWM). Target < 64 MiB.
// Rounds alternate local then relay, each on a freshly filled queue (not timed);
// medians over rounds; a summary with PASS/FAIL. The exit status does not depend on the
// verdicts (docs/performance.md).
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/comparison_reporter.h"
#include "bench/fim_backlog.h"
#include "bench/relay_deployment.h"
#include "bench/socket_deployment.h"
#include "bench/storage_bench_support.h"
#include "bench/sync_bench_support.h"
#include "benchmark/benchmark.h"

namespace asp::bench {
namespace {

constexpr int kRounds = 3;
constexpr double kTargetRatio = 0.5;
constexpr double kTargetWireRatio = 0.35;
constexpr int kLatencyRounds = 3;
constexpr int64_t kLatencySessions = 200;  // per round
constexpr int kLatencyWarmUp = 20;
constexpr double kLatencyTargetUs = 2000;
constexpr double kTargetRssMiB = 64;
constexpr uint64_t kDefaultModules = 100;
constexpr uint64_t kDefaultModuleChanges = 2000;

constexpr char kLocal[] = "1_throughput/delta_over_local_socket";
constexpr char kRelay[] = "1_throughput/delta_through_relay";
constexpr char kLatencyLocal[] = "3_latency/one_change_over_local_socket";
constexpr char kLatencyRelay[] = "3_latency/one_change_through_relay";

struct Context {
  ScratchDir* dir = nullptr;
  uint64_t changes = 0;
  BenchCertificates certificates;
  RoundChecks checks;              // of the relay rounds
  std::vector<double> wire_ratio;  // per relay round
  std::vector<double> latency_local_us;
  std::vector<double> latency_relay_us;
};

std::string socketPath(const Context& context, const char* name) {
  return absl::StrCat(context.dir->path(), "/", name, ".sock");
}

// A fresh queue file of the round's N changes (not timed).
absl::StatusOr<std::string> filledQueue(Context* context) {
  const std::string path = context->dir->newDbPath("backlog");
  absl::StatusOr<double> filled = fillFimQueue(path, 0, context->changes);
  if (!filled.ok()) return filled.status();
  return path;
}

// ---- 1 and 2: throughput, wire bytes ----

void deltaOverLocalSocket(benchmark::State& state, Context* context) {
  absl::StatusOr<std::string> queue = filledQueue(context);
  if (!ok(state, queue.status())) return;
  absl::StatusOr<std::unique_ptr<SocketDeployment>> d =
      SocketDeployment::start(socketPath(*context, "local"), *queue);
  if (!ok(state, d.status())) return;
  SyncResult result;
  for (auto _ : state) {
    const SteadyClock::time_point start = SteadyClock::now();
    result = (*d)->protocol().synchronizeModule(Mode::kDelta);
    state.SetIterationTime(secondsBetween(start, SteadyClock::now()));
  }
  if (!ok(state, toStatus(result))) return;
  if (!ok(state, verifyFimDelivered((*d)->store(), kModule, 0, context->changes))) return;
  state.SetItemsProcessed(static_cast<int64_t>(result.changes));
  state.counters["MiB"] =
      benchmark::Counter(static_cast<double>((*d)->socketCounters().bytes_sent) / kMiB);
  d->reset();
  removeDbFiles(*queue);
}

void deltaThroughRelay(benchmark::State& state, Context* context) {
  RoundChecks* checks = &context->checks;
  absl::StatusOr<std::string> queue = filledQueue(context);
  if (!ok(state, queue.status(), checks)) return;
  absl::StatusOr<std::unique_ptr<BenchManager>> manager =
      BenchManager::start(context->certificates.manager);
  if (!ok(state, manager.status(), checks)) return;
  const std::string socket = socketPath(*context, "relay");
  absl::StatusOr<std::unique_ptr<relay::Relay>> relay =
      startBenchRelay(context->certificates.relay, socket, (*manager)->port());
  if (!ok(state, relay.status(), checks)) return;
  absl::StatusOr<std::unique_ptr<BenchAgent>> agent = BenchAgent::open(kModule, *queue, socket);
  if (!ok(state, agent.status(), checks)) return;
  SyncResult result;
  for (auto _ : state) {
    const SteadyClock::time_point start = SteadyClock::now();
    result = (*agent)->protocol().synchronizeModule(Mode::kDelta);
    state.SetIterationTime(secondsBetween(start, SteadyClock::now()));
  }
  if (!ok(state, toStatus(result), checks)) return;
  if (!ok(state, verifyFimDelivered((*manager)->store(), kModule, 0, context->changes), checks))
    return;
  checks->pass();
  const relay::Relay::Counters c = (*relay)->counters();
  const double ratio =
      c.bytes_forwarded > 0 ? static_cast<double>(c.wire.sent) / c.bytes_forwarded : 0;
  context->wire_ratio.push_back(ratio);
  state.SetItemsProcessed(static_cast<int64_t>(result.changes));
  state.counters["payload_MiB"] = benchmark::Counter(static_cast<double>(c.bytes_forwarded) / kMiB);
  state.counters["wire_MiB"] = benchmark::Counter(static_cast<double>(c.wire.sent) / kMiB);
  state.counters["wire_pct"] = benchmark::Counter(100 * ratio);
  agent->reset();
  (*relay)->stop();
  manager->reset();
  removeDbFiles(*queue);
}

// ---- 3: latency ----

double microsSince(SteadyClock::time_point start) {
  return secondsBetween(start, SteadyClock::now()) * 1e6;
}

// One-change sessions of `protocol`, warm-up first; the timed samples in microseconds.
absl::Status oneChangeSessions(benchmark::State& state, AgentSyncProtocol& protocol,
                               std::vector<double>* out) {
  int64_t n = 0;
  auto session = [&]() -> absl::StatusOr<double> {
    const Change change =
        fimChange(1000000000 + static_cast<uint64_t>(state.range(0)) * 100000 + n++);
    if (absl::Status s =
            protocol.persistDifference(change.id, Operation::kCreate, change.index, change.data, 1);
        !s.ok()) {
      return s;
    }
    const SteadyClock::time_point start = SteadyClock::now();
    SyncResult result = protocol.synchronizeModule(Mode::kDelta);
    const double us = microsSince(start);
    if (!result.ok()) return toStatus(result);
    if (result.changes != 1)
      return absl::InternalError(absl::StrCat("a session of ", result.changes, " changes"));
    return us;
  };
  for (int i = 0; i < kLatencyWarmUp; ++i) {
    if (absl::StatusOr<double> us = session(); !us.ok()) return us.status();
  }
  std::vector<double> samples;
  for (auto _ : state) {
    absl::StatusOr<double> us = session();
    if (!us.ok()) return us.status();
    state.SetIterationTime(*us / 1e6);
    samples.push_back(*us);
  }
  state.counters["median_us"] = benchmark::Counter(median(samples));
  state.counters["p99_us"] = benchmark::Counter(percentile(samples, 99));
  out->insert(out->end(), samples.begin(), samples.end());
  return absl::OkStatus();
}

void latencyOverLocalSocket(benchmark::State& state, Context* context) {
  const std::string queue = context->dir->newDbPath("latency");
  absl::StatusOr<std::unique_ptr<SocketDeployment>> d =
      SocketDeployment::start(socketPath(*context, "local"), queue);
  if (!ok(state, d.status())) return;
  ok(state, oneChangeSessions(state, (*d)->protocol(), &context->latency_local_us));
  d->reset();
  removeDbFiles(queue);
}

void latencyThroughRelay(benchmark::State& state, Context* context) {
  const std::string queue = context->dir->newDbPath("latency");
  absl::StatusOr<std::unique_ptr<BenchManager>> manager =
      BenchManager::start(context->certificates.manager);
  if (!ok(state, manager.status())) return;
  const std::string socket = socketPath(*context, "relay");
  absl::StatusOr<std::unique_ptr<relay::Relay>> relay =
      startBenchRelay(context->certificates.relay, socket, (*manager)->port());
  if (!ok(state, relay.status())) return;
  absl::StatusOr<std::unique_ptr<BenchAgent>> agent = BenchAgent::open(kModule, queue, socket);
  if (!ok(state, agent.status())) return;
  ok(state, oneChangeSessions(state, (*agent)->protocol(), &context->latency_relay_us));
  agent->reset();
  (*relay)->stop();
  manager->reset();
  removeDbFiles(queue);
}

// ---- 4: the relay's memory, in its own process ----

// A relay in a child process forked before this process starts any thread. It waits for
// the manager's port on a pipe, relays until that pipe closes, and says "ready" (one
// byte) once its stream is open.
class RelayChild {
 public:
  static std::unique_ptr<RelayChild> fork(const tls::TlsMaterial& tls,
                                          const std::string& socket_path) {
    int to_child[2];
    int from_child[2];
    if (pipe(to_child) != 0 || pipe(from_child) != 0) return nullptr;
    const pid_t pid = ::fork();
    if (pid < 0) return nullptr;
    if (pid == 0) {
      close(to_child[1]);
      close(from_child[0]);
      _exit(runChild(tls, socket_path, to_child[0], from_child[1]));
    }
    close(to_child[0]);
    close(from_child[1]);
    return std::unique_ptr<RelayChild>(new RelayChild(pid, to_child[1], from_child[0]));
  }

  ~RelayChild() {
    close(to_child_);
    close(from_child_);
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
  }

  // Sends the manager's port; true once the child's relay is connected (within 20 s).
  bool connect(int port) {
    if (write(to_child_, &port, sizeof(port)) != sizeof(port)) return false;
    pollfd p{from_child_, POLLIN, 0};
    char ready = 0;
    return poll(&p, 1, 20000) == 1 && read(from_child_, &ready, 1) == 1 && ready == 'R';
  }

  // "VmHWM" or "VmRSS" of the child, in bytes (-1 when unreadable).
  int64_t memory(const std::string& field) const {
    std::ifstream status(absl::StrCat("/proc/", pid_, "/status"));
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1)) * 1024;
    }
    return -1;
  }

 private:
  RelayChild(pid_t pid, int to_child, int from_child)
      : pid_(pid), to_child_(to_child), from_child_(from_child) {}

  static int runChild(const tls::TlsMaterial& tls, const std::string& socket_path, int in,
                      int out) {
    int port = 0;
    if (read(in, &port, sizeof(port)) != sizeof(port)) return 1;
    absl::StatusOr<std::unique_ptr<relay::Relay>> relay = startBenchRelay(tls, socket_path, port);
    if (!relay.ok()) {
      std::cerr << "relay child: " << relay.status() << "\n";
      return 1;
    }
    const char ready = 'R';
    if (write(out, &ready, 1) != 1) return 1;
    char ignored;
    while (read(in, &ignored, 1) > 0) {
    }
    (*relay)->stop();
    return 0;
  }

  const pid_t pid_;
  const int to_child_;
  const int from_child_;
};

struct MemoryOutcome {
  bool ran = false;
  std::string error;
  uint64_t modules = 0;
  uint64_t changes = 0;
  double seconds = 0;
  int64_t peak_bytes = 0;
  int64_t idle_bytes = 0;  // once connected, before the modules synced
};

MemoryOutcome measureRelayMemory(RelayChild* child, Context* context, uint64_t modules,
                                 uint64_t per_module) {
  MemoryOutcome outcome;
  outcome.modules = modules;
  outcome.changes = modules * per_module;
  auto failed = [&](const absl::Status& s) {
    outcome.error = std::string(s.message());
    return outcome;
  };
  if (child == nullptr) return failed(absl::InternalError("the relay child could not be forked"));
  absl::StatusOr<std::unique_ptr<BenchManager>> manager =
      BenchManager::start(context->certificates.manager);
  if (!manager.ok()) return failed(manager.status());
  if (!child->connect((*manager)->port()))
    return failed(absl::UnavailableError("the relay child did not connect"));
  outcome.idle_bytes = child->memory("VmRSS");
  std::vector<std::unique_ptr<BenchAgent>> agents;
  for (uint64_t m = 0; m < modules; ++m) {
    const std::string queue = context->dir->newDbPath("module");
    absl::StatusOr<double> filled = fillFimQueue(queue, m * per_module, per_module);
    if (!filled.ok()) return failed(filled.status());
    absl::StatusOr<std::unique_ptr<BenchAgent>> agent = BenchAgent::open(
        absl::StrFormat("fim-%03d", m), queue, socketPath(*context, "child-relay"));
    if (!agent.ok()) return failed(agent.status());
    agents.push_back(*std::move(agent));
  }
  std::vector<SyncResult> results(modules);
  std::vector<std::thread> threads;
  const SteadyClock::time_point start = SteadyClock::now();
  for (uint64_t m = 0; m < modules; ++m) {
    threads.emplace_back(
        [&, m] { results[m] = agents[m]->protocol().synchronizeModule(Mode::kDelta); });
  }
  for (std::thread& t : threads) t.join();
  outcome.seconds = secondsBetween(start, SteadyClock::now());
  outcome.peak_bytes = child->memory("VmHWM");
  for (const SyncResult& r : results) {
    if (!r.ok()) return failed(toStatus(r));
  }
  for (uint64_t m = 0; m < modules; ++m) {
    absl::Status s = verifyFimDelivered((*manager)->store(), absl::StrFormat("fim-%03d", m),
                                        m * per_module, per_module);
    if (!s.ok()) return failed(s);
  }
  outcome.ran = true;
  return outcome;
}

// ---- summary ----

void printWire(std::ostream& out, const Context& context) {
  const char* measure = "2 wire bytes / payload bytes (FIM JSON, gzip)";
  if (context.wire_ratio.empty()) {
    out << absl::StrFormat("%-50s (not run, or failed: see the errors above)\n", measure);
    return;
  }
  const double ratio = median(context.wire_ratio);
  out << absl::StrFormat("%-50s %12.3f %12s %7s %14s %9s  %s\n", measure, ratio, "", "", "",
                         absl::StrFormat("<= %.2f", kTargetWireRatio),
                         verdict(ratio <= kTargetWireRatio));
}

void printLatency(std::ostream& out, const Context& context) {
  const char* measure = "3 one-change session through the relay, median";
  if (context.latency_relay_us.empty()) {
    out << absl::StrFormat("%-50s (not run, or failed: see the errors above)\n", measure);
    return;
  }
  const double p50 = median(context.latency_relay_us);
  out << absl::StrFormat(
      "%-50s %9.0f us %9.0f us %7.2f %14s %9s  %s (%d sessions)\n", measure, p50,
      median(context.latency_local_us),
      median(context.latency_local_us) > 0 ? p50 / median(context.latency_local_us) : 0, "",
      absl::StrFormat("< %.0f us", kLatencyTargetUs), verdict(p50 < kLatencyTargetUs),
      context.latency_relay_us.size());
  out << absl::StrFormat(
      "  3: through the relay p90 %.0f us, p99 %.0f us; over the local socket median %.0f us, p99 "
      "%.0f us\n",
      percentile(context.latency_relay_us, 90), percentile(context.latency_relay_us, 99),
      median(context.latency_local_us), percentile(context.latency_local_us, 99));
}

void printMemory(std::ostream& out, const MemoryOutcome& m) {
  const char* measure = "4 relay peak RSS, modules syncing at once";
  if (!m.ran) {
    out << absl::StrFormat("%-50s (not run, or failed: %s)\n", measure,
                           m.error.empty() ? "filtered out" : m.error);
    return;
  }
  const double mib = static_cast<double>(m.peak_bytes) / kMiB;
  out << absl::StrFormat("%-50s %9.1f MiB %50s %9s  %s\n", measure, mib, "",
                         absl::StrFormat("< %.0f MiB", kTargetRssMiB),
                         verdict(mib < kTargetRssMiB));
  out << absl::StrFormat(
      "  4: %d modules, %d changes in all, synced in %.1f s (%.0f changes/s); relay RSS when idle "
      "%.1f MiB\n",
      m.modules, m.changes, m.seconds, m.changes / m.seconds,
      static_cast<double>(m.idle_bytes) / kMiB);
}

int run(int argc, char** argv) {
  const uint64_t changes = takeUintFlag("--changes=", kDefaultChanges, &argc, argv);
  const uint64_t modules = takeUintFlag("--modules=", kDefaultModules, &argc, argv);
  const uint64_t module_changes =
      takeUintFlag("--module_changes=", kDefaultModuleChanges, &argc, argv);
  absl::StatusOr<std::unique_ptr<ScratchDir>> scratch = ScratchDir::create("asp-relay-bench");
  if (!scratch.ok()) {
    std::cerr << scratch.status() << "\n";
    return 1;
  }
  Context context;
  context.dir = scratch->get();
  context.changes = changes;
  absl::StatusOr<BenchCertificates> certificates = makeBenchCertificates();
  if (!certificates.ok()) {
    std::cerr << certificates.status() << "\n";
    return 1;
  }
  context.certificates = *std::move(certificates);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // Forked first, while this process has no thread: the child starts small.
  std::unique_ptr<RelayChild> child;
  if (filterSelects("4_memory"))
    child = RelayChild::fork(context.certificates.relay, socketPath(context, "child-relay"));
  std::cout << "Scratch directory: " << (*scratch)->path() << std::endl;
  for (int round = 1; round <= kRounds; ++round) {
    registerSessionRound(kLocal, round, deltaOverLocalSocket, &context);
    registerSessionRound(kRelay, round, deltaThroughRelay, &context);
  }
  for (int round = 1; round <= kLatencyRounds; ++round) {
    for (const auto& [name, fn] : {std::make_pair(kLatencyLocal, latencyOverLocalSocket),
                                   std::make_pair(kLatencyRelay, latencyThroughRelay)}) {
      benchmark::RegisterBenchmark(name, fn, &context)
          ->ArgName("round")
          ->Arg(round)
          ->Iterations(kLatencySessions)
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  const Comparison comparison{"1 DELTA through the relay vs the local socket", kRelay, kLocal,
                              kTargetRatio};
  ComparisonReporter reporter({comparison});
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  MemoryOutcome memory;
  if (child != nullptr) {
    std::cout << "\n4_memory: " << modules << " modules of " << module_changes
              << " changes through a relay process" << std::endl;
    memory = measureRelayMemory(child.get(), &context, modules, module_changes);
    child.reset();
  }

  std::cout << absl::StrFormat(
      "\n==== Summary: the relay binding (gRPC, mutual TLS, gzip, loopback) vs the local socket, "
      "%d "
      "file-integrity changes ====\n",
      changes);
  std::cout << absl::StrFormat("%-50s %12s %12s %7s %14s %9s  %s\n",
                               "measure (medians over rounds)", "relay", "local", "ratio",
                               "[min .. max]", "target", "result");
  printSessionComparison(std::cout, comparison, reporter.outcome(comparison), 50);
  if (context.checks.ran > 0) {
    std::cout << absl::StrFormat("%-50s %12s %12s %7s %14s %9s  %s (%d of %d rounds)\n",
                                 "  manager holds exactly the N documents", "", "", "", "", "all",
                                 verdict(context.checks.allPassed()), context.checks.verified,
                                 context.checks.ran);
    for (const std::string& failure : context.checks.failures)
      std::cout << "    failed: " << failure << "\n";
  }
  printWire(std::cout, context);
  printLatency(std::cout, context);
  printMemory(std::cout, memory);
  return 0;
}

}  // namespace
}  // namespace asp::bench

int main(int argc, char** argv) { return asp::bench::run(argc, argv); }
