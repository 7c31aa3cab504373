// One poll-and-deploy cycle of one app (huddle-fetch APP), and the operator's
// rollback. Effects at the edge: git, files, processes, systemd.
#pragma once
#include <string>

#include "core/config.hpp"

namespace huddle::sys {

// huddle-fetch's exit codes (documented in huddle-fetch(8)).
enum FetchExit : int {
    kFetchOk = 0,          // up to date, or deployed
    kFetchConfig = 1,      // the config is invalid
    kFetchUsage = 2,
    kFetchTemporary = 3,   // network, lock, systemd: retried at the next tick
    kFetchRejected = 4,    // build or verify failed; the running release is untouched
    kFetchRolledBack = 5,  // the new release was unhealthy; the previous one is back
    kFetchRefused = 6,     // local path exists and is not huddle's; nothing touched
};

int run_cycle(const AppConfig& c);

// Huddle's [watchdog] while the app runs: check it once; on failure, say why
// in the journal and restart the app. Run by huddle-watchdog@APP.timer.
int run_watchdog(const AppConfig& c);

// Switch back to an earlier release that is still on disk (the previous one
// by default) and mark the current commit bad, so polls do not redeploy it.
int rollback(const AppConfig& c, const std::string& to_commit);

std::string exit_meaning(int code);

}  // namespace huddle::sys
