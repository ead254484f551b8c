#include "asp/tools/demo_tour.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "asp/base/checksum.h"
#include "asp/tools/console.h"

namespace asp::tools::demo {
namespace {

constexpr int kSteps = 9;

std::string fileId(uint64_t file) { return absl::StrFormat("/var/lib/demo/file-%06d", file); }

std::string fileDocument(uint64_t file, uint64_t revision) {
  const std::string path =
      absl::StrFormat("/var/lib/demo/dir-%03d/file-%06d.conf", file % 997, file);
  return absl::StrFormat(R"({"path":"%s","size":%d,"mode":"0644","uid":0,"mtime":%d,"sha1":"%s"})",
                         path, (file * 7919 + revision) % 65536, 1700000000 + revision,
                         sha1Hex(absl::StrCat(path, revision)));
}

std::string n(uint64_t value) { return withCommas(value); }

}  // namespace

int Tour::run() {
  if (!setUp()) return interrupted_ ? kInterrupted : kSetUpFailed;
  const bool passed = recordFiles() && sync("initial delta sync", Mode::kDelta) && changeSome() &&
                      sync("delta sync of changes", Mode::kDelta) &&
                      check("check: in sync", false) && damage() && check("check: damaged", true) &&
                      recover() && check("check: recovered", false) && verify();
  if (interrupted_) return kInterrupted;
  return passed ? kPassed : kFailed;
}

void Tour::interrupt() {
  interrupted_ = true;
  if (AgentSyncProtocol* protocol = protocol_.load(); protocol != nullptr) protocol->stop();
}

bool Tour::fail(const std::string& message) {
  if (!interrupted_) std::cerr << "asp_demo: " << message << "\n";
  return false;
}

void Tour::announce(const std::string& name, const std::string& why) {
  std::cout << "\n[" << ++step_number_ << "/" << kSteps << "] " << name << ": " << why << std::endl;
}

void Tour::report(const std::string& what) { std::cout << "      -> " << what << std::endl; }

bool Tour::setUp() {
  const std::string state_dir = settings_.dir + "/manager";
  std::error_code error;
  std::filesystem::create_directories(state_dir, error);
  if (error) return fail(absl::StrCat("cannot create ", state_dir, ": ", error.message()));
  auto store = manager::SqliteStateStore::open(state_dir + "/state.db");
  if (!store.ok()) return fail(std::string(store.status().message()));
  store_ = *std::move(store);
  const std::string queue = settings_.dir + "/queue";  // where the module sends, either way
  manager::ManagerServer::Options m;
  m.socket_path = settings_.local_socket ? queue : settings_.dir + "/manager-queue";
  testing::ManagerFaults::Options faults;
  faults.drop_rate = settings_.drop_rate;
  auto created = testing::ManagerFaults::create(faults);
  if (!created.ok()) return fail(std::string(created.status().message()));
  faults_ = *std::move(created);
  m.filter = faults_.get();
  auto server = manager::ManagerServer::start(m, store_.get());
  if (!server.ok()) return fail(std::string(server.status().message()));
  server_ = *std::move(server);
  if (!settings_.local_socket) {
    auto crossing =
        DemoCrossing::start(settings_.dir, kAgent, queue, &server_->core(), faults_.get());
    if (!crossing.ok()) return fail(std::string(crossing.status().message()));
    crossing_ = *std::move(crossing);
  }

  AgentSyncProtocol::Options o;
  o.module = kModule;
  o.database_path = settings_.dir + "/fim_sync.db";
  o.session.timeout = absl::Seconds(5);
  o.session.retries = 5;
  o.session.backoff.initial = absl::Milliseconds(100);
  o.session.sync_end_delay = absl::Milliseconds(100);
  o.session.max_eps = settings_.eps;
  o.agent_info = [] {
    AgentInfo info = defaultAgentInfo();
    info.id = kAgent;
    info.name = "demo-agent";
    return info;
  };
  auto agent = SocketSyncProtocol::create(o, queue);
  if (!agent.ok()) return fail(std::string(agent.status().message()));
  agent_ = *std::move(agent);
  protocol_ = &agent_->protocol();
  if (interrupted_) agent_->protocol().stop();  // Ctrl-C came before protocol_ was set
  std::cout << "ASP demo in " << settings_.dir << "\n"
            << "  manager: socket " << m.socket_path << ", state " << state_dir << "/state.db"
            << (settings_.drop_rate > 0
                    ? absl::StrCat(", drops ", settings_.drop_rate * 100, " % of data")
                    : "")
            << "\n"
            << (crossing_ != nullptr ? crossing_->description() : "") << "  module '" << kModule
            << "' of agent " << kAgent << ": queue " << o.database_path << ", sends to " << queue
            << std::endl;
  return true;
}

absl::Status Tour::put(const std::string& id, Operation op, const std::string& data,
                       uint64_t version) {
  absl::Status s = protocol_.load()->persistDifference(id, op, kIndex, data, version);
  if (s.ok() && op == Operation::kDelete) module_.erase(id);
  if (s.ok() && op != Operation::kDelete) module_[id] = manager::Document{data, version};
  return s;
}

bool Tour::recordFiles() {
  const uint64_t items = static_cast<uint64_t>(settings_.items);
  Step step{"record changes"};
  announce(
      step.name,
      absl::StrCat("a file-integrity scan records ", n(items),
                   " files in the module's SQLite queue; each survives a crash once recorded"));
  std::atomic<uint64_t> done{0};
  const absl::Time began = absl::Now();
  {
    ProgressBar bar(step.name, items, [&] { return done.load(); });
    for (uint64_t i = 0; i < items; ++i, ++done) {
      if (interrupted_) return false;
      if (absl::Status s = put(fileId(i), Operation::kCreate, fileDocument(i, 1), 1); !s.ok()) {
        return fail(std::string(s.message()));
      }
    }
  }
  step.changes = items;
  step.time = absl::Now() - began;
  step.outcome = "durable in SQLite";
  steps_.push_back(step);
  report(
      absl::StrCat(n(items), " changes durable in fim_sync.db, ", n(pendingChanges()), " pending"));
  return true;
}

bool Tour::changeSome() {
  Step step{"change 10%, delete 5%"};
  announce(step.name,
           "the next scan finds files modified and deleted; only those differences are recorded");
  std::mt19937_64 random(7);
  uint64_t modified = 0, deleted = 0;
  const absl::Time began = absl::Now();
  for (uint64_t i = 0; i < static_cast<uint64_t>(settings_.items); ++i) {
    if (interrupted_) return false;
    const uint64_t roll = random() % 100;
    absl::Status s;
    if (roll < 10) {
      s = put(fileId(i), Operation::kModify, fileDocument(i, 2), 2);
      ++modified;
    } else if (roll < 15) {
      s = put(fileId(i), Operation::kDelete, "", 2);
      ++deleted;
    } else {
      continue;
    }
    if (!s.ok()) return fail(std::string(s.message()));
  }
  step.changes = modified + deleted;
  step.time = absl::Now() - began;
  step.outcome = "recorded";
  steps_.push_back(step);
  report(absl::StrCat(n(modified), " modified, ", n(deleted), " deleted: ", n(pendingChanges()),
                      " changes pending"));
  return true;
}

bool Tour::sync(const std::string& name, Mode mode) {
  const bool full = mode == Mode::kFull;
  if (full) {
    announce(name,
             "send every document the module holds; the manager replaces its copy of the index");
  } else if (steps_.size() <= 1) {
    announce(
        name,
        "one DELTA session sends every pending change; the manager asks again for any it lost");
  } else {
    announce(name, "only what changed since the last confirmed sync is sent");
  }
  AgentSyncProtocol& protocol = *protocol_.load();
  const uint64_t wire_before = wireBytesSent();
  const uint64_t before = protocol.stats().values_sent;
  const uint64_t total = full ? module_.size() : pendingChanges();
  SyncResult result;
  {
    ProgressBar bar(name, total, [&] { return protocol.stats().values_sent - before; });
    result = protocol.synchronizeModule(mode);
  }
  record(Step{name}, result, wire_before);
  if (!result.ok())
    return fail(absl::StrCat(name, " failed: ", syncCodeName(result.code), ": ", result.message));
  report(absl::StrCat("the manager confirmed ", n(result.changes), " changes in ",
                      n(result.frames_sent), " frames; ", n(result.retransmitted),
                      " values resent; ", n(pendingChanges()), " pending"));
  return true;
}

std::string Tour::moduleChecksum() const {
  IndexChecksum checksum;
  for (const auto& [id, doc] : module_) checksum.addDocument(doc.data);
  return checksum.finish();
}

bool Tour::check(const std::string& name, bool expect_mismatch) {
  announce(name, expect_mismatch
                     ? "the same check must now notice that the copies differ"
                     : "compare checksums of the index, module's and manager's; no data is sent");
  const std::string checksum = moduleChecksum();
  const uint64_t wire_before = wireBytesSent();
  SyncResult result = protocol_.load()->checkIntegrity(kIndex, checksum);
  record(Step{name}, result, wire_before);
  steps_.back().outcome = result.code == SyncCode::kOk ? "match" : syncCodeName(result.code);
  const SyncCode wanted = expect_mismatch ? SyncCode::kChecksumMismatch : SyncCode::kOk;
  if (result.code != wanted) {
    return fail(absl::StrCat(name, ": expected ", syncCodeName(wanted), ", got ",
                             syncCodeName(result.code), " ", result.message));
  }
  report(expect_mismatch ? "mismatch detected: the manager's copy differs; a full sync is required"
                         : absl::StrCat("match: both copies of ", kIndex, " have checksum ",
                                        checksum, " (", n(module_.size()), " documents)"));
  return true;
}

bool Tour::damage() {
  Step step{"damage manager copy"};
  announce(
      step.name,
      "simulate drift on the manager: alter one document, lose one, add one the module never had");
  const std::string first = module_.begin()->first;
  const std::string last = module_.rbegin()->first;
  // Written straight into the manager's store, as drift on the manager's side would be.
  manager::SessionUpdate drift;
  drift.ops.push_back(
      {manager::SessionUpdate::Op::Kind::kUpsert, kIndex, first, "{\"damaged\":true}", 99});
  drift.ops.push_back({manager::SessionUpdate::Op::Kind::kDelete, kIndex, last, "", 0});
  drift.ops.push_back(
      {manager::SessionUpdate::Op::Kind::kUpsert, kIndex, "/var/lib/demo/ghost", "{}", 1});
  const bool ok = store_->apply(manager::ModuleKey{kAgent, kModule}, std::move(drift)).ok();
  step.changes = 3;
  step.outcome = ok ? "altered, removed, added one" : "failed";
  steps_.push_back(step);
  if (!ok) return fail("could not damage the manager's state");
  report(absl::StrCat("altered ", first, ", removed ", last, ", added /var/lib/demo/ghost"));
  return true;
}

bool Tour::recover() {
  AgentSyncProtocol& protocol = *protocol_.load();
  protocol.clearInMemoryData();
  for (const auto& [id, doc] : module_) {
    absl::Status s =
        protocol.persistDifferenceInMemory(id, Operation::kCreate, kIndex, doc.data, doc.version);
    if (!s.ok()) return fail(std::string(s.message()));
  }
  return sync("full recovery", Mode::kFull);
}

bool Tour::verify() {
  absl::StatusOr<manager::IndexState> manager = store_->documents({kAgent, kModule}, kIndex);
  if (!manager.ok()) return fail(std::string(manager.status().message()));
  if (std::map<std::string, manager::Document>(manager->begin(), manager->end()) != module_) {
    return fail(absl::StrCat("the manager holds ", manager->size(), " documents, the module ",
                             module_.size(), "; they differ"));
  }
  std::cout << "\nThe manager holds exactly the module's " << n(module_.size()) << " documents.\n";
  return true;
}

uint64_t Tour::pendingChanges() {
  uint64_t pending = 0;
  absl::StatusOr<std::vector<IndexCounts>> counts = protocol_.load()->queue().counts();
  for (const IndexCounts& c : counts.value_or(std::vector<IndexCounts>{})) pending += c.pending;
  return pending;
}

uint64_t Tour::wireBytesSent() const {
  return crossing_ != nullptr ? crossing_->wireBytesSent() : 0;
}

void Tour::record(Step step, const SyncResult& result, uint64_t wire_before) {
  if (crossing_ != nullptr) step.wire_bytes = wireBytesSent() - wire_before;
  step.changes = result.changes;
  step.frames = result.frames_sent;
  step.resent = result.retransmitted;
  step.bytes = result.bytes_sent;
  step.time = result.duration;
  step.outcome = syncCodeName(result.code);
  steps_.push_back(std::move(step));
}

void Tour::summary() const {
  if (steps_.empty()) return;
  std::vector<std::vector<std::string>> rows;
  for (const Step& s : steps_) {
    const double seconds = absl::ToDoubleSeconds(s.time);
    const std::string rate =
        s.changes > 0 && seconds > 0 ? n(static_cast<uint64_t>(s.changes / seconds)) + "/s" : "-";
    rows.push_back({s.name, n(s.changes), n(s.frames), n(s.resent), n(s.bytes),
                    s.wire_bytes.has_value() ? n(*s.wire_bytes) : "-",
                    absl::StrFormat("%.3f s", seconds), rate, s.outcome});
  }
  std::cout << "\n";
  printTable({"step", "changes", "frames", "values resent", "payload bytes", "wire bytes", "time",
              "rate", "outcome"},
             rows);
  std::cout
      << "\nchanges: documents recorded, or data messages a session carried. frames: datagrams\n"
         "sent. values resent: data messages sent again because the manager asked for ones it\n"
         "lost (ReqRet). payload bytes: encoded message bytes the module sent. wire bytes: what\n"
         "the relay's TCP connection carried for them (TLS, HTTP/2, gzip; - on the local\n"
         "socket). rate: changes per second.\n";
}

std::string aspctlCommand() {
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (workspace != nullptr && *workspace != '\0') {
    const char* typed_in = std::getenv("BUILD_WORKING_DIRECTORY");
    const bool at_root = typed_in != nullptr && std::string(typed_in) == workspace;
    return absl::StrCat(at_root ? "." : workspace, "/bazelw run //asp/tools:aspctl --");
  }
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return "aspctl";
  const std::filesystem::path beside = self.parent_path() / "aspctl";
  if (self.parent_path() == "/usr/bin" || !std::filesystem::exists(beside)) return "aspctl";
  return beside.string();
}

void printInspectionCommands(const Settings& settings, std::ostream& out) {
  const std::string aspctl = aspctlCommand();
  const std::string copy =
      absl::StrCat(aspctl, " manager-copy --state_dir=", settings.dir,
                   "/manager --module=", kModule, " --agent_id=", kAgent, " --index=", kIndex);
  out << "\nKept " << settings.dir << ". Each command below runs as printed"
      << (aspctl.find("bazelw") != std::string::npos ? " (from the checkout)" : "") << ":\n"
      << "  the module's queue, per index (empty after the last sync):\n"
      << "    " << aspctl << " status --db=" << settings.dir << "/fim_sync.db\n"
      << "  the manager's copy of the agent's documents, as JSON lines:\n"
      << "    " << copy << "\n"
      << "  its checksum (the module's is printed by step 9):\n"
      << "    " << copy << " | " << aspctl << " checksum --index=" << kIndex << "\n"
      << "  remove it when done:\n"
      << "    rm -r " << settings.dir << "\n";
}

}  // namespace asp::tools::demo
