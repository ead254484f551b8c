// TcpProxy: a TCP proxy on loopback for tests of network faults between two processes.
//
// It listens on 127.0.0.1 (a free port, port()) and forwards every connection to
// `target_host`:`target_port`, both ways. stall(true) stops forwarding: bytes wait in the
// kernel's buffers and TCP flow control soon holds both senders, as on a link that went
// silent; stall(false) resumes. cut() closes every connection open now, as a link that
// broke; new connections are accepted as before.
//
// One thread, poll-based, at most 64 KiB held per direction of a connection. Stops with
// the object. Thread-safe.
#ifndef ASP_TESTING_TCP_PROXY_H_
#define ASP_TESTING_TCP_PROXY_H_

#include <atomic>
#include <string>
#include <thread>

namespace asp::testing {

class TcpProxy {
 public:
  TcpProxy(std::string target_host, int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  bool ok() const { return listener_ >= 0; }
  int port() const { return port_; }
  void stall(bool stalled) { stalled_ = stalled; }
  void cut() { ++cuts_requested_; }
  // Connections accepted so far.
  int accepted() const { return accepted_; }

 private:
  void run();

  const std::string target_host_;
  const int target_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stalled_{false};
  std::atomic<int> cuts_requested_{0};
  std::atomic<int> accepted_{0};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace asp::testing

#endif  // ASP_TESTING_TCP_PROXY_H_
