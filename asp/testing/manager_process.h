/* The reference manager as a separate process, for C tests (the asp_manager binary from
 * the test's runfiles: list @asp//asp/tools:asp_manager, or //asp/tools:asp_manager, in
 * its data). Usable from C and C++. Test-only. */
#ifndef ASP_TESTING_MANAGER_PROCESS_H_
#define ASP_TESTING_MANAGER_PROCESS_H_

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Starts asp_manager on `socket_path` with its state in `state_dir` and waits (up to 5 s)
 * until the socket exists. The process id, or -1 (the reason on stderr). */
pid_t manager_process_start(const char* socket_path, const char* state_dir);

/* Sends SIGTERM and waits. 0 when the manager exited with status 0, else -1. */
int manager_process_stop(pid_t manager);

#ifdef __cplusplus
}
#endif

#endif /* ASP_TESTING_MANAGER_PROCESS_H_ */
