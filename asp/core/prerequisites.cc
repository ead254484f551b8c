#include "asp/core/prerequisites.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"

namespace asp {
namespace {

bool needsGroups(Mode mode) { return mode == Mode::kGroupDelta || mode == Mode::kGroupCheck; }

// One answer of the provider: the info, Unavailable ("not yet"), or a hard failure.
absl::StatusOr<AgentInfo> askOnce(const AgentInfoProvider& provider, Mode mode) {
  absl::StatusOr<AgentInfo> info = askAgentInfo(provider);
  if (!info.ok()) {
    if (absl::IsUnavailable(info.status())) return info.status();
    return absl::InvalidArgumentError(
        absl::StrCat("agent_info failed: ", info.status().ToString()));
  }
  if (absl::Status s = validateAgentInfo(*info); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("agent_info: ", s.message()));
  }
  if (needsGroups(mode) && info->groups.empty()) {
    return absl::UnavailableError(
        absl::StrCat("agent '", info->id, "' has no groups yet (", modeName(mode), " sends them)"));
  }
  return info;
}

}  // namespace

absl::StatusOr<AgentInfo> awaitAgentInfo(const AgentInfoProvider& provider, Mode mode,
                                         absl::Duration wait, AnswerChannel& channel,
                                         Clock& clock) {
  const absl::Time give_up = clock.now() + wait;
  while (true) {
    if (channel.stopped()) return absl::CancelledError("stopped");
    absl::StatusOr<AgentInfo> info = askOnce(provider, mode);
    if (info.ok() || !absl::IsUnavailable(info.status())) return info;
    const absl::Time now = clock.now();
    if (now >= give_up) {
      return absl::UnavailableError(
          absl::StrCat("the agent's identity was not available after ", absl::FormatDuration(wait),
                       " (prerequisite_wait): ", info.status().message()));
    }
    if (!channel.sleepUntil(std::min(give_up, now + kPrerequisitePoll))) {
      return absl::CancelledError("stopped");
    }
  }
}

}  // namespace asp
