// The tour asp_demo runs: each step explained before it runs and reported after, a
// summary table, and the commands that inspect what it leaves behind.
//
// By default it crosses hosts as a fleet does (docs/protocol.md §9; demo_crossing.h): a
// throwaway CA and certificates, the manager listening on the relay binding, a relay
// owning the module's queue socket, mutual TLS over loopback; the table shows the bytes
// on the wire beside the payload bytes. Settings::local_socket keeps the module on the
// manager's own socket.
#ifndef ASP_TOOLS_DEMO_TOUR_H_
#define ASP_TOOLS_DEMO_TOUR_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "asp/core/socket_sync_protocol.h"
#include "asp/manager/manager_server.h"
#include "asp/manager/sqlite_state_store.h"
#include "asp/testing/manager_faults.h"
#include "asp/tools/demo_crossing.h"

namespace asp::tools::demo {

// asp_demo's exit codes (docs/tools.md).
enum Exit { kPassed = 0, kUsage = 1, kFailed = 2, kSetUpFailed = 3, kInterrupted = 130 };

inline constexpr char kAgent[] = "001";
inline constexpr char kModule[] = "fim";
inline constexpr char kIndex[] = "states-fim-files";

struct Settings {
  int64_t items = 100000;
  double drop_rate = 0;
  double eps = 0;
  bool keep = false;
  // The module on the manager's own socket instead of across the relay binding.
  bool local_socket = false;
  std::string dir;  // the tour's directory: queue file, manager socket and state
};

class Tour {
 public:
  explicit Tour(Settings settings) : settings_(std::move(settings)) {}

  // Runs every step; kPassed, kFailed, kSetUpFailed or kInterrupted.
  int run();
  // Stops the tour from another thread (Ctrl-C): the running step ends at once.
  void interrupt();
  // The table of the steps that ran, with its legend.
  void summary() const;

 private:
  struct Step {
    explicit Step(std::string step_name) : name(std::move(step_name)) {}
    std::string name;
    uint64_t changes = 0;
    uint64_t frames = 0;
    uint64_t resent = 0;
    uint64_t bytes = 0;
    std::optional<uint64_t> wire_bytes;  // across the relay binding only
    absl::Duration time;
    std::string outcome;
  };

  bool setUp();
  // "[3/9] name: why" before a step runs.
  void announce(const std::string& name, const std::string& why);
  // "      -> what happened" after it.
  void report(const std::string& what);
  bool fail(const std::string& message);
  bool recordFiles();
  bool changeSome();
  bool sync(const std::string& name, Mode mode);
  bool check(const std::string& name, bool expect_mismatch);
  bool damage();
  bool recover();
  bool verify();
  absl::Status put(const std::string& id, Operation op, const std::string& data, uint64_t version);
  uint64_t pendingChanges();
  std::string moduleChecksum() const;
  // Records a session's step; `wire_before`: the relay's wire bytes when it began.
  void record(Step step, const SyncResult& result, uint64_t wire_before);
  // The relay's TCP bytes sent so far; 0 over the local socket.
  uint64_t wireBytesSent() const;

  const Settings settings_;
  std::atomic<bool> interrupted_{false};
  std::atomic<AgentSyncProtocol*> protocol_{nullptr};
  int step_number_ = 0;
  std::unique_ptr<manager::SqliteStateStore> store_;
  std::unique_ptr<testing::ManagerFaults> faults_;  // --drop_rate
  std::unique_ptr<manager::ManagerServer> server_;
  std::unique_ptr<DemoCrossing> crossing_;  // null with --local_socket
  std::unique_ptr<SocketSyncProtocol> agent_;
  std::map<std::string, manager::Document> module_;
  std::vector<Step> steps_;
};

// With --keep: the commands that inspect the directory, runnable as printed (from the
// checkout under `bazel run`, else with the aspctl installed beside asp_demo).
void printInspectionCommands(const Settings& settings, std::ostream& out);

// How to run aspctl as the user ran asp_demo: "./bazelw run //asp/tools:aspctl --" from a
// checkout (BUILD_WORKSPACE_DIRECTORY), else the aspctl beside this binary.
std::string aspctlCommand();

}  // namespace asp::tools::demo

#endif  // ASP_TOOLS_DEMO_TOUR_H_
