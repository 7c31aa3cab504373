// Run a deploy step (build, verify, health command) as a given user, with a
// time limit, each output line handed to a callback. The step runs in its own
// process group, so a timeout, and the step's end, stop everything it
// started there.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/duration.hpp"
#include "error.hpp"

namespace huddle::sys {

class StepScopes;

struct RunSpec {
    std::vector<std::string> argv;
    std::string user;  // "" = stay root
    std::string group;
    std::string cwd;
    std::vector<std::string> env;  // NAME=VALUE, the whole environment
    usec_t timeout = 0;
    std::string stdin_path;  // "" = /dev/null
    // Where the step runs: a scope of its own (stepscope.hpp) that it
    // enters before exec and that is ended after it; null = none.
    StepScopes* scopes = nullptr;
};

// How a step that started ended.
struct RunResult {
    int exit_code = -1;  // when exited
    int signal = 0;      // when killed by a signal
    bool timed_out = false;
    bool ok() const { return !timed_out && signal == 0 && exit_code == 0; }
    std::string describe() const;
};

// An error when the step could not be started at all (unknown user, a
// program not in PATH, no process to be had).
Result<RunResult> run_process(const RunSpec& spec, const std::function<void(const std::string& line)>& on_line);

struct UserIds {
    unsigned uid = 0, gid = 0;
    std::string home;
    std::vector<unsigned> groups;  // supplementary, as initgroups(3) would set them
};

// huddle-fetch --exec-environment, the app unit's ExecStart for a command
// that a transient unit file cannot carry (plan.cpp, app_exec_start): exec
// the words in HUDDLE_ARGC and HUDDLE_ARGV_0... (removed from the
// environment first), searching PATH as systemd would. Returns only on
// failure, with the exit status to use (as a shell's: 127 not found).
int exec_from_environment();

// -ENOENT, saying which and what to do, for an unknown user or group.
Result<UserIds> lookup_user(const std::string& user, const std::string& group);

// Kill what is left of this process's children (orphans it reaps as the
// child subreaper, which run_process makes it), until none is left;
// an error when some survive 5 s of SIGKILL or cannot be listed.
Status kill_leftovers();

}  // namespace huddle::sys
