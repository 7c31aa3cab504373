// Each pre-pull, build and verify step runs in a systemd scope of its own,
// huddle-step-APP-PID.scope in huddle.slice, with the app's memory and task
// limits: when the step ends, systemd kills what is left in that cgroup,
// which no process of the app's user can leave. (huddle-fetch is also the
// steps' child subreaper and sweeps what the scope did not hold.)
#pragma once
#include <sys/types.h>

#include <memory>
#include <string>

#include "core/config.hpp"
#include "error.hpp"

namespace huddle::sys {

class StepScopes {
public:
    virtual ~StepScopes() = default;
    // Put PID, a step's process that waits before exec, into a new scope;
    // returns the scope's name.
    virtual Result<std::string> adopt(pid_t pid) = 0;
    // Kill everything still in the scope and wait until systemd has stopped it.
    virtual Status end(const std::string& scope) = 0;
};

// Through PID 1's private socket (no dbus-daemon connection limit: a
// fleet's builds all run at once).
Result<std::unique_ptr<StepScopes>> systemd_step_scopes(const AppConfig& c);

}  // namespace huddle::sys
