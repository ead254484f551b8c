// asp_demo: the README's main job. A guided tour of ASP against a real reference
// manager over a real Unix socket, in a temporary directory:
//
//   record N file-integrity changes -> initial delta sync -> change and delete some ->
//   delta sync of the changes -> check (match) -> damage the manager's copy -> check
//   (mismatch) -> full recovery -> check (match)
//
// Every step says what it does and why before it runs, and what happened after. It ends
// with a table and exits 0 only if the manager ends holding exactly what the module
// holds. Exit codes and flags: asp_demo --help, docs/tools.md.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "asp/tools/cli.h"
#include "asp/tools/demo_tour.h"

ABSL_FLAG(int64_t, items, 100000, "Synthetic file-integrity changes to record (1 to 10,000,000).");
ABSL_FLAG(double, drop_rate, 0,
          "Fraction of data datagrams the manager drops, 0 to 0.5: watch the values resent.");
ABSL_FLAG(double, eps, 0, "Frames per second the agent may send (0 = unlimited).");
ABSL_FLAG(bool, keep, false,
          "Keep the demo directory and print commands that inspect it (module and manager).");
ABSL_FLAG(bool, local_socket, false,
          "Sync over the manager's own socket instead of across the relay binding (mutual TLS).");

namespace {

using asp::tools::demo::kFailed;
using asp::tools::demo::kInterrupted;
using asp::tools::demo::kPassed;
using asp::tools::demo::kSetUpFailed;
using asp::tools::demo::kUsage;

std::string help() {
  return absl::StrCat(
      "asp_demo: a guided tour of ASP against a real manager, in a temporary directory.\n\n"
      "  asp_demo [--items=N] [--drop_rate=R] [--eps=E] [--keep] [--local_socket]\n\n"
      "By default the module syncs across the relay binding: a throwaway CA, the manager\n"
      "listening on mutual TLS, a relay owning the module's queue socket, all on loopback.\n\n"
      "Ctrl-C stops it cleanly and removes its directory (--keep: leaves it, says "
      "where).\n\nFlags:\n",
      asp::tools::describeFlags({"items", "drop_rate", "eps", "keep"}), "\n",
      asp::tools::describeExitCodes(
          {{kPassed, "the demo passed: the manager holds exactly the module's documents"},
           {kUsage, "usage error: a bad flag or value (nothing was run)"},
           {kFailed, "a step did not behave as expected (the directory is kept)"},
           {kSetUpFailed, "could not set up: temporary directory or manager"},
           {kInterrupted, "interrupted by Ctrl-C (SIGINT) or SIGTERM"}}));
}

// The flags' values, or a usage error naming the flag.
absl::StatusOr<asp::tools::demo::Settings> settingsFromFlags() {
  asp::tools::demo::Settings s;
  s.items = absl::GetFlag(FLAGS_items);
  s.drop_rate = absl::GetFlag(FLAGS_drop_rate);
  s.eps = absl::GetFlag(FLAGS_eps);
  s.keep = absl::GetFlag(FLAGS_keep);
  s.local_socket = absl::GetFlag(FLAGS_local_socket);
  if (s.items < 1 || s.items > 10000000) {
    return absl::InvalidArgumentError(
        absl::StrCat("--items is ", s.items, "; give 1 to 10,000,000"));
  }
  if (!(s.drop_rate >= 0 && s.drop_rate <= 0.5)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--drop_rate is ", s.drop_rate,
        "; give 0 to 0.5 (a fraction: 0.05 drops 5 %; above 0.5 a session rarely converges)"));
  }
  if (!(s.eps >= 0 && s.eps < 1e9)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--eps is ", s.eps, "; give 0 (unlimited) or more"));
  }
  return s;
}

// Where the tour's directory goes: $TMPDIR, else /tmp.
std::string makeDirectory() {
  std::error_code error;
  std::string pattern = (std::filesystem::temp_directory_path(error) / "asp-demo-XXXXXX").string();
  if (error) pattern = "/tmp/asp-demo-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return "";
  return pattern;
}

// The last line: how the tour ended and where its directory is.
std::string ending(int code, bool keep, const std::string& dir) {
  switch (code) {
    case kPassed:
      return "Demo passed.";
    case kInterrupted:
      return absl::StrCat("Interrupted; ", keep ? "left " : "removed ", dir);
    case kFailed:
      return absl::StrCat("Demo FAILED; left ", dir, " to inspect (stderr says which step)");
    default:
      return absl::StrCat("Could not set up the demo", keep ? "; left " + dir : "");
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "asp_demo [--items=N] [--drop_rate=R] [--eps=E] [--keep]; --help for more.");
  if (asp::tools::asksForHelp(argc, argv)) {
    std::cout << help();
    return kPassed;
  }
  // Bad flag syntax: Abseil prints one error and exits 1 (kUsage).
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::cerr << "asp_demo: unexpected argument '" << rest[1] << "' (asp_demo --help)\n";
    return kUsage;
  }
  absl::StatusOr<asp::tools::demo::Settings> settings = settingsFromFlags();
  if (!settings.ok()) {
    std::cerr << "asp_demo: " << settings.status().message() << "\n";
    return kUsage;
  }

  // Ctrl-C and SIGTERM are taken by a thread of ours (sigwait), which stops the tour;
  // SIGUSR1 wakes that thread when the tour ends by itself.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::string dir = makeDirectory();
  if (dir.empty()) {
    std::cerr << "asp_demo: cannot create a directory in " << std::filesystem::temp_directory_path()
              << "\n";
    return kSetUpFailed;
  }
  settings->dir = dir;
  int code = kPassed;
  {
    asp::tools::demo::Tour tour(*settings);
    std::thread watcher([&] {
      int signal_number = 0;
      sigwait(&signals, &signal_number);
      if (signal_number != SIGUSR1) tour.interrupt();
    });
    code = tour.run();
    pthread_kill(watcher.native_handle(), SIGUSR1);
    watcher.join();
    tour.summary();
  }
  const bool keep = settings->keep || code == kFailed;
  if (!keep) std::filesystem::remove_all(dir);
  std::cout << "\n" << ending(code, keep, dir) << "\n";
  if (settings->keep && code != kInterrupted)
    asp::tools::demo::printInspectionCommands(*settings, std::cout);
  return code;
}
