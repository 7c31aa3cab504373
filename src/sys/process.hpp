// Run a deploy step (build, verify, health command) as a given user, with a
// time limit, each output line handed to a callback. The step runs in its own
// process group so a timeout stops everything it started.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/duration.hpp"

namespace huddle::sys {

struct RunSpec {
    std::vector<std::string> argv;
    std::string user;  // "" = stay root
    std::string group;
    std::string cwd;
    std::vector<std::string> env;  // NAME=VALUE, the whole environment
    usec_t timeout = 0;
};

struct RunResult {
    int exit_code = -1;  // when exited
    int signal = 0;      // when killed by a signal
    bool timed_out = false;
    std::string error;   // could not start
    bool ok() const { return error.empty() && !timed_out && signal == 0 && exit_code == 0; }
    std::string describe() const;
};

RunResult run_process(const RunSpec& spec, const std::function<void(const std::string& line)>& on_line);

// Look the user up: uid, gid, home. false with error set if unknown.
bool lookup_user(const std::string& user, const std::string& group, unsigned& uid, unsigned& gid, std::string& home, std::string& error);

}  // namespace huddle::sys
