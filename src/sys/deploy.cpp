#include "deploy.hpp"
#include "fetcher.hpp"

#include <unistd.h>

#include <cstdlib>

#include "clock.hpp"
#include "core/duration.hpp"
#include "cycle.hpp"
#include "release.hpp"

namespace huddle::sys {

std::string exit_meaning(int code) {
    switch (code) {
    case kFetchOk: return "up to date or deployed";
    case kFetchConfig: return "the config is invalid";
    case kFetchUsage: return "usage error";
    case kFetchTemporary: return "temporary failure, retried at the next poll";
    case kFetchRejected: return "release rejected (its tree, build, verify, signature or rewind)";
    case kFetchRolledBack: return "new release unhealthy, rolled back";
    case kFetchRefused: return "local path is not huddle's; nothing touched";
    }
    return "exit status " + std::to_string(code);
}

namespace {
// HUDDLE_BUS_TIMEOUT, a systemd time span ("5s", "2min"); the default when
// unset or not one (a typo must not make every call time out at once).
usec_t bus_timeout() {
    const char* v = std::getenv("HUDDLE_BUS_TIMEOUT");
    if (!v || !*v) return Systemd::kDefaultCallTimeout;
    auto t = parse_timespan(v);
    return t.usec && *t.usec > 0 ? *t.usec : Systemd::kDefaultCallTimeout;
}
}  // namespace

DeployEnv default_env() {
    DeployEnv env;
    env.state_dir = state_dir();
    env.credentials_dir = "/etc/huddle/credentials";
    env.open_repository = open_separated;
    usec_t timeout = bus_timeout();
    env.connect_systemd = [timeout]() -> Result<std::unique_ptr<UnitManager>> {
        auto sd = Systemd::connect(Systemd::Route::system_bus, timeout);
        if (!sd) return sd.error();
        return std::unique_ptr<UnitManager>(std::move(*sd));
    };
    env.verify_signature = verify_signature;
    env.step_scopes = systemd_step_scopes;
    env.sleep = [](usec_t t) { ::usleep(static_cast<useconds_t>(t)); };
    env.now = monotonic_usec;
    env.slot_dir = "/run/huddle/slots";
    env.slot_wait = 5 * 60 * kUsecPerSec;
    return env;
}

int run_cycle(const AppConfig& c, const DeployEnv& env) { return Cycle(c, env).run(); }
Result<Verdict> dry_run(const AppConfig& c, const DeployEnv& env) { return Cycle(c, env).dry_run(); }
int rollback(const AppConfig& c, const std::string& to_commit, const DeployEnv& env) { return Cycle(c, env).rollback_by_hand(to_commit); }

}  // namespace huddle::sys
