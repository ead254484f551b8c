// Transport: how the core hands one encoded message to the MQueue (docs/protocol.md §4).
//
// The core serializes a wire Message and calls send() with the module name; the
// transport adds its framing (e.g. the "s:<module>:" header) and delivers it. Answers
// travel the other way through AgentSyncProtocol::parseResponseBuffer(), fed by
// whoever receives them (a transport's receiver thread, or the module itself).
//
// Thread-safety: send() may be called from any thread, one call at a time per
// protocol instance. It may block briefly (a full socket buffer) but must not block
// indefinitely.
#ifndef ASP_TRANSPORT_TRANSPORT_H_
#define ASP_TRANSPORT_TRANSPORT_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace asp {

class Transport {
 public:
  virtual ~Transport() = default;

  // Sends `message` (a serialized asp.wire.v1.Message) for `module`. OK once the
  // message is handed to the queue; an error (e.g. Unavailable: no manager queue,
  // InvalidArgument: frame too large) when it was not sent.
  virtual absl::Status send(absl::string_view module, absl::string_view message) = 0;

  // Makes a send() that is blocked (e.g. on a full socket buffer) return Cancelled
  // promptly, and later sends fail the same way until resume(). The protocol calls
  // these from stop() and reset(). Default: nothing to interrupt.
  virtual void interrupt() {}
  virtual void resume() {}
};

}  // namespace asp

#endif  // ASP_TRANSPORT_TRANSPORT_H_
