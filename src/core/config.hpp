// The app model: what one config file means, fully validated and with every
// default applied, so later stages never re-check or guess.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "diag.hpp"
#include "duration.hpp"
#include "size.hpp"
#include "raw.hpp"

namespace huddle {

// What must carry a good signature by an allowed signer (verify =).
enum class VerifyMode { none, commit, tag, both };
inline const char* verify_name(VerifyMode m) {
    return m == VerifyMode::commit ? "commit" : m == VerifyMode::tag ? "tag" : m == VerifyMode::both ? "both" : "none";
}

struct RepositoryConfig {
    std::string remote_path;
    std::string branch;  // empty: the remote's default branch (HEAD)
    std::string tag;     // glob; empty: follow a branch
    std::string commit;  // pinned commit; empty: follow the ref
    std::string local_path;
    Loc local_path_loc;  // where local path is set (line 0: the default)
    std::string remote_name = "origin";
    std::string credential;
    std::string known_hosts = "/etc/huddle/known_hosts";
    std::string signers;  // ssh-keygen ALLOWED SIGNERS file; "" = none
    std::string keyring;  // OpenPGP public keys; "" = none
    Loc signers_loc, keyring_loc;  // where they are set, for errors about the files
    VerifyMode verify = VerifyMode::none;
    bool rewind = false;  // false: a new commit must descend from the deployed one
};

struct TimingConfig {
    usec_t minimum = 60 * kUsecPerSec;
    std::optional<usec_t> maximum;
};

struct ApplicationConfig {
    std::vector<std::string> start;  // argv
    std::string user;   // the config's, or default_app_user(app) (appuser.hpp)
    std::string group;  // empty: the user's primary group
    std::vector<std::pair<std::string, std::string>> environment;
    std::string environment_file;
    std::string type = "simple";
    std::string restart = "always";
    std::optional<usec_t> stop_timeout;
    std::string working_directory;  // absolute; defaults to local path
    bool sandbox = true;  // the app unit's systemd sandbox (plan.cpp, app_sandbox)
};

struct DeployConfig {
    std::vector<std::string> pre_pull;  // shell lines, before fetching
    std::vector<std::string> build;     // shell lines, in the new release ([deploy] build, then [scripts] post-pull)
    std::vector<std::string> verify;    // shell lines; all must exit 0
    usec_t timeout = 10 * 60 * kUsecPerSec;
    usec_t settle = 5 * kUsecPerSec;
    std::vector<std::string> health_command;  // argv; empty: none
    usec_t health_timeout = 30 * kUsecPerSec;
    unsigned keep = 3;
};

struct WatchdogConfig {
    usec_t period = 60 * kUsecPerSec;
    std::string host = "127.0.0.1";
    uint16_t port = 0;
    std::string request;
    std::string response;
};

// What one deploy cycle may cost the machine (huddle-fetch@APP.service,
// which talks to the remote and runs the build): memory and tasks for its
// cgroup, bytes received per fetch, bytes of a checkout. A remote that
// needs more is refused, never let take the machine.
struct LimitsConfig {
    uint64_t memory = 2ull << 30;   // MemoryMax=; kSizeInfinity: none
    uint64_t tasks = 512;           // TasksMax=; kSizeInfinity: none
    uint64_t fetch = 1ull << 30;    // bytes received by one fetch
    uint64_t release = 4ull << 30;  // bytes of the files one checkout writes
};

struct AppConfig {
    std::string name;
    std::string file;
    Format format = Format::ini;
    RepositoryConfig repo;
    TimingConfig timing;
    std::optional<ApplicationConfig> app;  // absent: files-only sync
    DeployConfig deploy;
    std::optional<WatchdogConfig> watchdog;
    LimitsConfig limits;
};

struct LoadResult {
    std::optional<AppConfig> config;  // set only when there are no errors
    Diagnostics diags;
    RawDoc doc;  // what the parser read (huddlectl show)
};

// Text of one config file to a validated model. Pure: no I/O.
LoadResult load_config(const std::string& app_name, const std::string& file, Format format, const std::string& text);

// Interpret an already parsed document (what load_config does after parsing).
LoadResult interpret(const std::string& app_name, const std::string& file, Format format, const RawDoc& doc, Diagnostics diags);

// Every section and key the loader accepts, in canonical spelling, for docs
// and the test that keeps huddle.conf(5) complete.
std::vector<std::pair<std::string, std::vector<std::string>>> known_keys();

std::string default_local_path(const std::string& app_name);

// Apps of one search path that set the same local path would replace each
// other's release: each of them gets an error and is not valid.
void refuse_shared_local_paths(const std::vector<LoadResult*>& apps);

}  // namespace huddle
