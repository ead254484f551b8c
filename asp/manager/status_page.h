// The manager's status page: one HTML page for an operator's browser with the fleet as
// the store holds it (agents, their modules, when each last synced, documents per
// index), the session figures and the failures logged lately. Everything that came from
// agents is escaped: an agent id is whatever an agent sent.
#ifndef ASP_MANAGER_STATUS_PAGE_H_
#define ASP_MANAGER_STATUS_PAGE_H_

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "asp/base/clock.h"
#include "asp/manager/manager_metrics.h"
#include "asp/manager/state_store.h"

namespace asp::manager {

// The last failures the manager logged (a store that cannot apply, a session whose data
// cannot be kept), newest last. Thread-safe.
class RecentFailures {
 public:
  struct Entry {
    absl::Time at;
    std::string line;
  };
  // Keeps the `capacity` newest; `clock` null means systemClock().
  explicit RecentFailures(size_t capacity = 20, Clock* clock = nullptr);
  void add(absl::string_view line);
  std::vector<Entry> entries() const;

 private:
  const size_t capacity_;
  Clock* const clock_;
  mutable std::mutex mu_;
  std::deque<Entry> entries_;
};

struct StatusView {
  std::string state;  // where the state lives ("PostgreSQL database 'asp' on ...")
  ManagerFigures figures;
  // The store's modules, or why they could not be read (shown instead of the table).
  std::vector<ModuleSummary> modules;
  std::string modules_error;
  std::vector<RecentFailures::Entry> failures;
};

// The page, a complete HTML document.
std::string statusPage(const StatusView& view);

// `text` made safe inside HTML text and attribute values.
std::string escapeHtml(absl::string_view text);

}  // namespace asp::manager

#endif  // ASP_MANAGER_STATUS_PAGE_H_
