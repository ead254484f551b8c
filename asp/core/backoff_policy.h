// BackoffOptions and BackoffPolicy moved to asp/base (the relay, which is not a
// session, backs off too). This header stays so module code that includes it, for the
// type of AgentSyncProtocol::Options::backoff, keeps building.
#ifndef ASP_CORE_BACKOFF_POLICY_H_
#define ASP_CORE_BACKOFF_POLICY_H_

#include "asp/base/backoff_policy.h"

#endif  // ASP_CORE_BACKOFF_POLICY_H_
