// What a session call needs before its Start: the agent's identity, and for the group
// modes its groups. A provider may answer "not yet" (Unavailable) while the agent
// enrolls; sending a Start with a wrong identity would file the module's state under
// the wrong agent, so the call waits instead, stop-aware and bounded.
#ifndef ASP_CORE_PREREQUISITES_H_
#define ASP_CORE_PREREQUISITES_H_

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "asp/base/clock.h"
#include "asp/core/answer_channel.h"
#include "asp/core/sync_types.h"

namespace asp {

// How often a provider that said "not yet" is asked again.
inline constexpr absl::Duration kPrerequisitePoll = absl::Seconds(1);

// Asks `provider` until it gives a valid AgentInfo (with groups, for kGroupDelta and
// kGroupCheck), at most `wait` after the first answer, asking again every
// kPrerequisitePoll on `clock`. Returns the info, or:
//  - Cancelled: `channel` was stopped meanwhile (within one wake-up: at once);
//  - Unavailable: still not available when `wait` ran out (the last reason given);
//  - InvalidArgument: the provider failed otherwise, threw, or gave a field that is
//    not valid UTF-8.
absl::StatusOr<AgentInfo> awaitAgentInfo(const AgentInfoProvider& provider, Mode mode,
                                         absl::Duration wait, AnswerChannel& channel, Clock& clock);

}  // namespace asp

#endif  // ASP_CORE_PREREQUISITES_H_
