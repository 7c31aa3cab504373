// One poll-and-deploy cycle of one app (huddle-fetch APP), its dry run, the
// operator's rollback and the [watchdog] check. Effects at the edge: git,
// files, processes, systemd, all reached through a DeployEnv.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "core/config.hpp"
#include "core/decide.hpp"
#include "error.hpp"
#include "git.hpp"
#include "stepscope.hpp"
#include "systemd.hpp"
#include "verify.hpp"

namespace huddle::sys {

// huddle-fetch's exit codes (documented in huddle-fetch(8)).
enum FetchExit : int {
    kFetchOk = 0,          // up to date, or deployed
    kFetchConfig = 1,      // the config is invalid
    kFetchUsage = 2,
    kFetchTemporary = 3,   // network, lock, systemd: retried at the next tick
    kFetchRejected = 4,    // its tree, build or verify, or a signature or rewind refused; the running release is untouched
    kFetchRolledBack = 5,  // the new release was unhealthy; the previous one is back
    kFetchRefused = 6,     // local path exists and is not huddle's; nothing touched
};

std::string exit_meaning(int code);

// Where a cycle finds the machine: the seams tests replace.
struct DeployEnv {
    std::string state_dir;        // holds APP/ (releases, state, lock)
    std::string credentials_dir;  // `credential = NAME` is a file here
    // The app's repository; with CREATE false a missing one is not made.
    // FETCH_USER: whom the remote is talked to as (fetcher.hpp).
    std::function<Result<std::unique_ptr<Repository>>(const std::string& path, bool create, const std::string& fetch_user)> open_repository;
    std::function<Result<std::unique_ptr<UnitManager>>()> connect_systemd;
    std::function<void(usec_t)> sleep;
    std::function<usec_t()> now;  // monotonic
    // Whose signature a commit or tag carries, if the config allows it
    // (verify.hpp); WORKDIR is the app's state directory.
    std::function<Result<Signer>(const SignedPayload&, const RepositoryConfig&, const std::string& workdir)> verify_signature;
    // Each pre-pull, build and verify step in a scope of its own
    // (stepscope.hpp); unset: none (the tests' fakes run steps as they are).
    std::function<Result<std::unique_ptr<StepScopes>>(const AppConfig&)> step_scopes;
    std::string slot_dir;         // the deploy slots' lock files (slots.hpp)
    usec_t slot_wait = 0;         // how long a deploy waits for a slot
};

// The machine's own: HUDDLE_STATE_DIR, the system bus with the call timeout
// HUDDLE_BUS_TIMEOUT (a systemd time span; 90 s by default), libgit2.
DeployEnv default_env();

int run_cycle(const AppConfig& c, const DeployEnv& env = default_env());

// What a poll would do now, from the live link, the state and the remote,
// changing nothing (huddle-fetch --dry-run, huddlectl status --remote).
Result<Verdict> dry_run(const AppConfig& c, const DeployEnv& env = default_env());

// Huddle's [watchdog] while the app runs: check it once; on failure, say why
// in the journal and restart the app. Run by huddle-watchdog@APP.timer.
int run_watchdog(const AppConfig& c, const DeployEnv& env = default_env());

// Switch back to an earlier release that is still on disk (the previous one
// by default) and mark the current commit bad, so polls do not redeploy it.
int rollback(const AppConfig& c, const std::string& to_commit, const DeployEnv& env = default_env());

}  // namespace huddle::sys
