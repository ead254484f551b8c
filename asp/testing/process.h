// Child processes for end-to-end tests: start a binary from the test's runfiles with
// arguments, capture its output in files, signal it, wait for it.
#ifndef ASP_TESTING_PROCESS_H_
#define ASP_TESTING_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace asp::testing {

// Absolute path of one of ASP's runfiles, e.g. runfile("asp/tools/asp_manager"); works in
// ASP's workspace and in consumers' (where ASP is @asp).
std::string runfile(const std::string& path);

class Process {
 public:
  // Starts `binary` with `args`; stdout and stderr go to `output_prefix`.out/.err,
  // stdin to `stdin_file` when given (else /dev/null).
  Process(const std::string& binary, const std::vector<std::string>& args,
          const std::string& output_prefix, const std::string& stdin_file = "");
  ~Process();  // kills (SIGKILL) and reaps it if still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int signal_number);
  // Waits for exit; returns the exit code, or 128 + signal when killed by one.
  int wait();
  std::string out() const;
  std::string err() const;

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string prefix_;
};

// The asp_manager binary to run with `flags`: the shipped one, or
// asp/testing:asp_manager_with_faults when a flag asks for faults (--drop_rate,
// --duplicate_rate, --answer_delay, --seed). Both must be in the test's data.
std::string managerBinary(const std::vector<std::string>& flags);

// Runs to completion; returns the exit code. stdout/stderr in `output_prefix`.out/.err.
int run(const std::string& binary, const std::vector<std::string>& args,
        const std::string& output_prefix, const std::string& stdin_file = "");

}  // namespace asp::testing

#endif  // ASP_TESTING_PROCESS_H_
