// InboundFilter: a seam on the way into the manager. The manager itself handles every
// agent message once and answers at once (no filter). Tests and the demo plug faults in
// here (asp/testing/manager_faults.h: drops, duplicates, late answers), so the shipped
// manager carries no fault injection.
//
// Implementations must be thread-safe: the Unix socket and the relay endpoint call them
// from their own threads.
#ifndef ASP_MANAGER_INBOUND_FILTER_H_
#define ASP_MANAGER_INBOUND_FILTER_H_

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace asp::manager {

class InboundFilter {
 public:
  virtual ~InboundFilter() = default;

  // How many times the manager handles `message` (a serialized agent Message, framing
  // removed): 0 drops it, 1 handles it, 2 handles it twice (its answers go twice).
  virtual int copies(absl::string_view message) = 0;

  // How long every answer waits before it is sent.
  virtual absl::Duration answerDelay() = 0;
};

}  // namespace asp::manager

#endif  // ASP_MANAGER_INBOUND_FILTER_H_
