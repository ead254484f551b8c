// asp_manager_with_faults: asp_manager with the test-only faults of ManagerFaults, for
// tests and campaigns that need a manager that loses, repeats or delays:
//
//   asp_manager_with_faults --socket=... --state_dir=... --drop_rate=0.05 --duplicate_rate=0.1
//                           --answer_delay=300ms --seed=17
//
// The shipped asp_manager has none of these flags.
#include <memory>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "asp/testing/manager_faults.h"
#include "asp/tools/cli.h"
#include "asp/tools/manager_main.h"

ABSL_FLAG(double, drop_rate, 0, "Fault injection: drop this fraction of data datagrams (0..1).");
ABSL_FLAG(double, duplicate_rate, 0,
          "Fault injection: handle this fraction of datagrams twice (0..1).");
ABSL_FLAG(asp::tools::DurationFlag, answer_delay, asp::tools::DurationFlag{absl::ZeroDuration()},
          "Fault injection: delay every answer on the Unix socket (e.g. 300ms).");
ABSL_FLAG(uint64_t, seed, 0,
          "Seed for session ids and fault injection (0: random, unguessable ids).");

int main(int argc, char** argv) {
  std::unique_ptr<asp::testing::ManagerFaults> faults;
  asp::tools::ManagerExtras extras;
  extras.flags = {"drop_rate", "duplicate_rate", "answer_delay", "seed"};
  extras.configure = [&faults](asp::manager::ManagerServer::Options& options) -> absl::Status {
    asp::testing::ManagerFaults::Options o;
    o.drop_rate = absl::GetFlag(FLAGS_drop_rate);
    o.duplicate_rate = absl::GetFlag(FLAGS_duplicate_rate);
    o.answer_delay = absl::GetFlag(FLAGS_answer_delay).value;
    o.seed = absl::GetFlag(FLAGS_seed);
    absl::StatusOr<std::unique_ptr<asp::testing::ManagerFaults>> created =
        asp::testing::ManagerFaults::create(o);
    if (!created.ok()) return created.status();
    faults = *std::move(created);
    options.filter = faults.get();
    options.core.seed = o.seed;
    return absl::OkStatus();
  };
  extras.summary = [&faults] {
    const asp::testing::ManagerFaults::Counters c = faults->counters();
    return absl::StrCat("faults: dropped values ", c.dropped_values, ", dropped datagrams ",
                        c.dropped_datagrams, ", duplicated ", c.duplicated);
  };
  return asp::tools::runManager(argc, argv, extras);
}
