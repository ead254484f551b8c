// asp_demo: the README's main job. A guided tour of ASP against a real reference
// manager over a real Unix socket, in a temporary directory:
//
//   record N file-integrity changes -> DELTA sync -> change and delete some -> DELTA
//   sync -> integrity check (match) -> damage the manager's copy -> integrity check
//   (mismatch) -> FULL recovery -> integrity check (match)
//
// It ends with a summary table and exits 0 only if the manager ends holding exactly
// what the module holds. Flags: --items, --drop_rate, --eps, --keep.
//
// By default it crosses hosts as a fleet does (PROTOCOL.md §9; demo_crossing.h): a
// throwaway CA and certificates, the manager listening on the relay binding, a relay
// owning the module's queue socket, mutual TLS over loopback; the table shows the bytes
// on the wire beside the payload bytes. --local_socket keeps the module on the manager's
// own socket.
#include <stdlib.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "asp/base/checksum.h"
#include "asp/core/socket_sync_protocol.h"
#include "asp/manager/manager_server.h"
#include "asp/manager/sqlite_state_store.h"
#include "asp/tools/console.h"
#include "asp/tools/demo_crossing.h"

ABSL_FLAG(int64_t, items, 100000, "Synthetic file-integrity changes to record.");
ABSL_FLAG(double, drop_rate, 0, "Fraction of data datagrams the manager drops (0..1).");
ABSL_FLAG(double, eps, 0, "Frames per second the agent may send (0 = unlimited).");
ABSL_FLAG(bool, keep, false, "Keep the demo directory instead of deleting it.");
ABSL_FLAG(bool, local_socket, false,
          "Sync over the manager's local socket instead of across the relay binding (TLS).");

namespace {

constexpr char kAgent[] = "001";
constexpr char kIndex[] = "states-fim-files";
constexpr char kModule[] = "fim";
using Documents = std::map<std::string, asp::manager::Document>;

struct Step {
  explicit Step(std::string step_name) : name(std::move(step_name)) {}
  std::string name;
  uint64_t changes = 0;
  uint64_t frames = 0;
  uint64_t retransmitted = 0;
  uint64_t bytes = 0;
  std::optional<uint64_t> wire_bytes;  // across the relay binding only
  absl::Duration time;
  std::string outcome;
};

class Demo {
 public:
  explicit Demo(std::string dir) : dir_(std::move(dir)) {}

  bool run() {
    return setUp() && recordFiles() && sync("delta sync", asp::Mode::kDelta) && changeSome() &&
           sync("delta sync", asp::Mode::kDelta) && check(false) && damage() && check(true) &&
           recover() && check(false) && verify();
  }

  void summary() const {
    std::vector<std::vector<std::string>> rows;
    for (const Step& s : steps_) {
      const double seconds = absl::ToDoubleSeconds(s.time);
      const std::string rate =
          s.changes > 0 && seconds > 0 ? asp::tools::withCommas(static_cast<uint64_t>(s.changes / seconds)) + "/s" : "-";
      rows.push_back({s.name, asp::tools::withCommas(s.changes), asp::tools::withCommas(s.frames),
                      asp::tools::withCommas(s.retransmitted), asp::tools::withCommas(s.bytes),
                      s.wire_bytes.has_value() ? asp::tools::withCommas(*s.wire_bytes) : "-",
                      absl::StrFormat("%.3f s", seconds), rate, s.outcome});
    }
    std::cout << "\n";
    asp::tools::printTable(
        {"step", "changes", "frames", "retransmitted", "payload bytes", "wire bytes", "time", "rate", "outcome"},
        rows);
  }

 private:
  bool fail(const std::string& message) {
    std::cerr << "asp_demo: " << message << "\n";
    return false;
  }

  bool setUp() {
    auto store = asp::manager::SqliteStateStore::open(dir_ + "/manager-state.db");
    if (!store.ok()) return fail(std::string(store.status().message()));
    store_ = *std::move(store);
    const bool local = absl::GetFlag(FLAGS_local_socket);
    const std::string queue = dir_ + "/queue";  // where the module sends, either way
    asp::manager::ManagerServer::Options m;
    m.socket_path = local ? queue : dir_ + "/manager-queue";
    m.drop_rate = absl::GetFlag(FLAGS_drop_rate);
    auto server = asp::manager::ManagerServer::start(m, store_.get());
    if (!server.ok()) return fail(std::string(server.status().message()));
    server_ = *std::move(server);
    if (!local) {
      auto crossing = asp::tools::DemoCrossing::start(dir_, kAgent, queue, &server_->core(), m.drop_rate);
      if (!crossing.ok()) return fail(std::string(crossing.status().message()));
      crossing_ = *std::move(crossing);
    }

    asp::AgentSyncProtocol::Options o;
    o.module = kModule;
    o.database_path = dir_ + "/fim_sync.db";
    o.timeout = absl::Seconds(5);
    o.retries = 5;
    o.backoff.initial = absl::Milliseconds(100);
    o.sync_end_delay = absl::Milliseconds(100);
    o.max_eps = absl::GetFlag(FLAGS_eps);
    o.agent_info = [] {
      asp::AgentInfo info = asp::defaultAgentInfo();
      info.id = kAgent;
      info.name = "demo-agent";
      return info;
    };
    auto agent = asp::SocketSyncProtocol::create(o, queue);
    if (!agent.ok()) return fail(std::string(agent.status().message()));
    agent_ = *std::move(agent);
    protocol_ = &agent_->protocol();
    std::cout << "ASP demo in " << dir_ << "\n  manager: " << m.socket_path
              << " (state " << dir_ << "/manager-state.db" << ", drop rate " << m.drop_rate
              << ")\n" << (crossing_ != nullptr ? crossing_->description() : "")
              << "  module 'fim', agent " << kAgent << ", queue " << o.database_path << ", sends to " << queue
              << "\n" << std::endl;
    return true;
  }

  std::string fileDocument(uint64_t file, uint64_t revision) {
    const std::string path = absl::StrFormat("/var/lib/demo/dir-%03d/file-%06d.conf", file % 997, file);
    return absl::StrFormat(
        R"({"path":"%s","size":%d,"mode":"0644","uid":0,"mtime":%d,"sha1":"%s"})", path,
        (file * 7919 + revision) % 65536, 1700000000 + revision,
        asp::sha1Hex(absl::StrCat(path, revision)));
  }

  absl::Status put(const std::string& id, asp::Operation op, const std::string& data, uint64_t version) {
    absl::Status s = protocol_->persistDifference(id, op, kIndex, data, version);
    if (s.ok() && op == asp::Operation::kDelete) module_.erase(id);
    if (s.ok() && op != asp::Operation::kDelete) module_[id] = asp::manager::Document{data, version};
    return s;
  }

  static std::string fileId(uint64_t file) { return absl::StrFormat("/var/lib/demo/file-%06d", file); }

  bool recordFiles() {
    const uint64_t items = static_cast<uint64_t>(absl::GetFlag(FLAGS_items));
    Step step{"record changes"};
    std::atomic<uint64_t> done{0};
    const absl::Time began = absl::Now();
    {
      asp::tools::ProgressBar bar(step.name, items, [&] { return done.load(); });
      for (uint64_t i = 0; i < items; ++i, ++done) {
        if (absl::Status s = put(fileId(i), asp::Operation::kCreate, fileDocument(i, 1), 1); !s.ok()) {
          return fail(std::string(s.message()));
        }
      }
    }
    step.changes = items;
    step.time = absl::Now() - began;
    step.outcome = "durable in SQLite";
    steps_.push_back(step);
    return true;
  }

  bool changeSome() {
    const uint64_t items = static_cast<uint64_t>(absl::GetFlag(FLAGS_items));
    Step step{"change 10%, delete 5%"};
    std::mt19937_64 random(7);
    const absl::Time began = absl::Now();
    for (uint64_t i = 0; i < items; ++i) {
      const uint64_t roll = random() % 100;
      absl::Status s;
      if (roll < 10) {
        s = put(fileId(i), asp::Operation::kModify, fileDocument(i, 2), 2);
      } else if (roll < 15) {
        s = put(fileId(i), asp::Operation::kDelete, "", 2);
      } else {
        continue;
      }
      if (!s.ok()) return fail(std::string(s.message()));
      ++step.changes;
    }
    step.time = absl::Now() - began;
    step.outcome = "recorded";
    steps_.push_back(step);
    return true;
  }

  bool sync(const std::string& name, asp::Mode mode) {
    Step step{name};
    const uint64_t wire_before = wireBytesSent();
    const uint64_t before = protocol_->stats().values_sent;
    const uint64_t total = mode == asp::Mode::kFull ? module_.size() : pendingChanges();
    asp::SyncResult result;
    {
      asp::tools::ProgressBar bar(step.name, total, [&] { return protocol_->stats().values_sent - before; });
      result = protocol_->synchronizeModule(mode);
    }
    record(step, result, wire_before);
    if (!result.ok()) return fail(absl::StrCat(name, " failed: ", asp::syncCodeName(result.code), ": ", result.message));
    return true;
  }

  uint64_t pendingChanges() {
    uint64_t n = 0;
    absl::StatusOr<std::vector<asp::IndexCounts>> counts = protocol_->queue().counts();
    for (const asp::IndexCounts& c : counts.value_or(std::vector<asp::IndexCounts>{})) n += c.pending;
    return n;
  }

  // The relay's wire bytes so far; 0 over the local socket.
  uint64_t wireBytesSent() const { return crossing_ != nullptr ? crossing_->wireBytesSent() : 0; }

  void record(Step& step, const asp::SyncResult& result, uint64_t wire_before) {
    if (crossing_ != nullptr) step.wire_bytes = wireBytesSent() - wire_before;
    step.changes = result.changes;
    step.frames = result.frames_sent;
    step.retransmitted = result.retransmitted;
    step.bytes = result.bytes_sent;
    step.time = result.duration;
    step.outcome = asp::syncCodeName(result.code);
    steps_.push_back(step);
  }

  bool check(bool expect_mismatch) {
    asp::IndexChecksum checksum;
    for (const auto& [id, doc] : module_) checksum.addDocument(doc.data);
    Step step{"integrity check"};
    const uint64_t wire_before = wireBytesSent();
    asp::SyncResult result = protocol_->checkIntegrity(kIndex, checksum.finish());
    record(step, result, wire_before);
    steps_.back().outcome = result.code == asp::SyncCode::kOk ? "match" : asp::syncCodeName(result.code);
    const asp::SyncCode wanted = expect_mismatch ? asp::SyncCode::kChecksumMismatch : asp::SyncCode::kOk;
    if (result.code != wanted) return fail(absl::StrCat("integrity check: expected ", asp::syncCodeName(wanted), ", got ", asp::syncCodeName(result.code), " ", result.message));
    return true;
  }

  bool damage() {
    // The manager's copy drifts: one document altered, one lost, one that should not be there.
    const std::string first = module_.begin()->first;
    const std::string last = module_.rbegin()->first;
    bool ok = store_->tamper({kAgent, kModule}, kIndex, first, {"{\"damaged\":true}", 99}).ok() &&
              store_->tamper({kAgent, kModule}, kIndex, last, {}, /*remove=*/true).ok() &&
              store_->tamper({kAgent, kModule}, kIndex, "/var/lib/demo/ghost", {"{}", 1}).ok();
    Step step{"damage manager copy"};
    step.changes = 3;
    step.outcome = ok ? "altered, removed, added one" : "failed";
    steps_.push_back(step);
    return ok || fail("could not damage the manager's state");
  }

  bool recover() {
    protocol_->clearInMemoryData();
    for (const auto& [id, doc] : module_) {
      absl::Status s = protocol_->persistDifferenceInMemory(id, asp::Operation::kCreate, kIndex, doc.data, doc.version);
      if (!s.ok()) return fail(std::string(s.message()));
    }
    return sync("full recovery", asp::Mode::kFull);
  }

  bool verify() {
    absl::StatusOr<asp::manager::IndexState> manager = store_->documents({kAgent, kModule}, kIndex);
    if (!manager.ok()) return fail(std::string(manager.status().message()));
    if (Documents(manager->begin(), manager->end()) != module_) {
      return fail(absl::StrCat("the manager holds ", manager->size(), " documents, the module ", module_.size(), "; they differ"));
    }
    std::cout << "\nThe manager holds exactly the module's " << asp::tools::withCommas(module_.size())
              << " documents.\n";
    return true;
  }

  const std::string dir_;
  std::unique_ptr<asp::manager::SqliteStateStore> store_;
  std::unique_ptr<asp::manager::ManagerServer> server_;
  std::unique_ptr<asp::tools::DemoCrossing> crossing_;  // null with --local_socket
  std::unique_ptr<asp::SocketSyncProtocol> agent_;
  asp::AgentSyncProtocol* protocol_ = nullptr;
  Documents module_;
  std::vector<Step> steps_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("A tour of ASP against a real manager: asp_demo [--items=N] [--drop_rate=R] [--eps=E] [--keep]");
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_items) < 1) {
    std::cerr << "asp_demo: --items must be at least 1\n";
    return 2;
  }
  char pattern[] = "/tmp/asp-demo-XXXXXX";
  if (mkdtemp(pattern) == nullptr) {
    std::cerr << "asp_demo: cannot create a directory in /tmp\n";
    return 2;
  }
  const std::string dir = pattern;
  bool ok = false;
  {
    Demo demo(dir);
    ok = demo.run();
    demo.summary();
  }
  if (absl::GetFlag(FLAGS_keep)) {
    std::cout << "\nKept " << dir << " (inspect it: aspctl status --db " << dir << "/fim_sync.db)\n";
  } else {
    std::filesystem::remove_all(dir);
  }
  std::cout << (ok ? "\nDemo passed.\n" : "\nDemo FAILED.\n");
  return ok ? 0 : 1;
}
