#include "deploy.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <sys/xattr.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "core/plan.hpp"
#include "core/refselect.hpp"
#include "core/state.hpp"
#include "clock.hpp"
#include "fs.hpp"
#include "git.hpp"
#include "log.hpp"
#include "process.hpp"
#include "release.hpp"
#include "slots.hpp"
#include "systemd.hpp"

namespace huddle::sys {

std::string exit_meaning(int code) {
    switch (code) {
    case kFetchOk: return "up to date or deployed";
    case kFetchConfig: return "the config is invalid";
    case kFetchUsage: return "usage error";
    case kFetchTemporary: return "temporary failure, retried at the next poll";
    case kFetchRejected: return "release rejected by build or verify";
    case kFetchRolledBack: return "new release unhealthy, rolled back";
    case kFetchRefused: return "local path is not huddle's; nothing touched";
    }
    return "exit status " + std::to_string(code);
}

namespace {
// Marks a release that is exactly its commit's tree, never written by a step.
constexpr const char* kVerbatim = "user.huddle.verbatim";

// Huddle's watchdog: connect, send the request, expect the response.
std::string watchdog_check(const WatchdogConfig& w) {
    struct addrinfo hints {};
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo* res = nullptr;
    if (getaddrinfo(w.host.c_str(), std::to_string(w.port).c_str(), &hints, &res) != 0 || !res) return "watchdog: cannot resolve " + w.host;
    int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv {5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int r = ::connect(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (r < 0) {
        ::close(fd);
        return "watchdog: cannot connect to " + w.host + ":" + std::to_string(w.port) + ": " + std::strerror(errno);
    }
    if (!w.request.empty() && ::send(fd, w.request.data(), w.request.size(), MSG_NOSIGNAL) < 0) {
        ::close(fd);
        return "watchdog: cannot send the request";
    }
    std::string got;
    char buf[4096];
    while (!w.response.empty() && got.find(w.response) == std::string::npos && got.size() < 65536) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    if (!w.response.empty() && got.find(w.response) == std::string::npos) return "watchdog: the answer did not contain '" + w.response + "'";
    return "";
}

class Cycle {
public:
    explicit Cycle(const AppConfig& c)
        : c_(c),
          dir_(app_dir(c.name)),
          releases_(dir_ + "/releases"),
          unit_(app_unit_name(c.name)),
          fields_({{"HUDDLE_APP", c.name}, {"OBJECT_SYSTEMD_UNIT", app_unit_name(c.name)}}) {}

    int run();
    int rollback(const std::string& to);

private:
    struct Step {
        ScopedLogFields f;
        Step(const char* step, const std::string& commit) : f({{"HUDDLE_STEP", step}, {"HUDDLE_COMMIT", commit}}) {}
    };

    bool load_state();
    bool save_state(std::string& error);
    std::vector<std::string> base_env(const std::string& commit, const std::string& release) const;
    bool run_scripts(const char* step, const std::vector<std::string>& lines, const std::string& cwd, const std::string& commit,
                     const std::string& release);
    bool prepare_release(const std::string& commit, std::string& release);
    bool publish(const std::string& commit, const std::string& release, std::string& error);
    // "" if healthy, else why not.
    std::string restart_and_check(Systemd& sd, const std::string& commit, const std::string& release, bool start_if_stopped);
    Systemd::UnitStatus app_status(Systemd& sd);
    bool systemd_silent_ = false;  // a check failed because systemd did not answer, not because of the release
    int fail_rejected(const std::string& commit, const std::string& why);
    void prune();

    const AppConfig& c_;
    std::string dir_, releases_, unit_;
    ScopedLogFields fields_;
    AppState state_;
    std::string ref_;
};

std::string app_user(const AppConfig& c) { return c.app ? c.app->user : "huddle"; }
std::string app_group(const AppConfig& c) { return c.app ? c.app->group : ""; }

bool Cycle::load_state() {
    ReadResult r = read_file(dir_ + "/state.json", 16 * 1024 * 1024);
    if (!r.text) return true;  // first run
    std::string err;
    auto s = state_from_json(*r.text, err);
    if (!s) {
        spdlog::warn("{}/state.json is unreadable ({}); starting from what local path points at", dir_, err);
        return true;
    }
    state_ = *s;
    return true;
}

bool Cycle::save_state(std::string& error) { return write_file_atomic(dir_ + "/state.json", state_to_json(state_), 0644, error) == 0; }

std::vector<std::string> Cycle::base_env(const std::string& commit, const std::string& release) const {
    std::string user = app_user(c_);
    unsigned uid, gid;
    std::string home, err;
    if (!lookup_user(user, app_group(c_), uid, gid, home, err)) home = "/";
    std::vector<std::string> env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + home, "USER=" + user,
                                    "LANG=C.UTF-8", "HUDDLE_APP=" + c_.name, "HUDDLE_COMMIT=" + commit, "HUDDLE_RELEASE=" + release,
                                    "HUDDLE_DATA=" + dir_ + "/data"};
    if (c_.app)
        for (const auto& [k, v] : c_.app->environment) env.push_back(k + "=" + v);
    return env;
}

bool Cycle::run_scripts(const char* step, const std::vector<std::string>& lines, const std::string& cwd, const std::string& commit,
                        const std::string& release) {
    Step s(step, commit);
    for (const auto& line : lines) {
        spdlog::info("{}: running {}", step, line);
        RunSpec spec{{"/bin/sh", "-c", line}, app_user(c_), app_group(c_), cwd, base_env(commit, release), c_.deploy.timeout};
        RunResult r = run_process(spec, [](const std::string& out) { spdlog::info("  {}", out); });
        if (!r.ok()) {
            spdlog::error("{}: '{}' failed: {}", step, line, r.describe());
            return false;
        }
    }
    return true;
}

int Cycle::fail_rejected(const std::string& commit, const std::string& why) {
    Step s("reject", commit);
    state_.bad = {commit};
    add_history(state_, {static_cast<int64_t>(::time(nullptr)), commit, ref_, "rejected", why});
    std::string err;
    if (!save_state(err)) spdlog::error("{}", err);
    spdlog::error("release {} rejected ({}); the running release is untouched; {} is not retried until {} moves", commit.substr(0, 12), why,
                  commit.substr(0, 12), ref_);
    return kFetchRejected;
}

bool Cycle::prepare_release(const std::string& commit, std::string& release) {
    release = releases_ + "/" + commit;
    struct stat st {};
    if (::lstat(release.c_str(), &st) == 0) return true;  // built and verified before (e.g. the release rolled back to)
    std::string tmp = release + ".tmp";
    remove_tree(tmp);  // what a killed cycle left half done
    std::string err;
    auto repo = GitRepo::open_or_init(dir_ + "/repo", err);
    bool steps = !c_.deploy.build.empty() || !c_.deploy.verify.empty();
    {
        Step s("checkout", commit);
        // A release no step has written holds exactly its commit's tree:
        // the new one can share its unchanged files (see GitRepo::checkout).
        std::string base = state_.deployed, base_dir = releases_ + "/" + state_.deployed;
        if (steps || base.empty() || ::getxattr(base_dir.c_str(), kVerbatim, nullptr, 0) < 0) base.clear();
        size_t linked = 0;
        if (!repo || repo->checkout(commit, tmp, err, base, base_dir, &linked) < 0) {
            spdlog::error("{}", err);
            remove_tree(tmp);
            return false;
        }
        if (linked)
            spdlog::info("checked out {} into {} ({} unchanged files shared with {})", commit.substr(0, 12), release, linked, base.substr(0, 12));
        else
            spdlog::info("checked out {} into {}", commit.substr(0, 12), release);
    }
    unsigned uid = 0, gid = 0;
    std::string home;
    // Build steps write into the release as the app's user; without steps it
    // stays root's from the start.
    if (steps && (!lookup_user(app_user(c_), app_group(c_), uid, gid, home, err) || chown_tree(tmp, uid, gid, false, err) < 0)) {
        spdlog::error("{}", err);
        remove_tree(tmp);
        return false;
    }
    if (!run_scripts("build", c_.deploy.build, tmp, commit, release) || !run_scripts("verify", c_.deploy.verify, tmp, commit, release)) {
        remove_tree(tmp);
        release.clear();
        return false;
    }
    // Read-only to the app from here on (a plain checkout is root's and not
    // writable by others already); then it appears, complete, in one rename.
    if (steps && chown_tree(tmp, 0, 0, true, err) < 0) {
        spdlog::error("cannot finish the release {}: {}", release, err);
        return false;
    }
    if (!steps) ::setxattr(tmp.c_str(), kVerbatim, "1", 1, 0);  // without it, the next checkout writes every file
    if (::rename(tmp.c_str(), release.c_str()) < 0) {
        spdlog::error("cannot finish the release {}: {}", release, err.empty() ? std::strerror(errno) : err);
        return false;
    }
    return true;
}

bool Cycle::publish(const std::string& commit, const std::string& release, std::string& error) {
    Step s("switch", commit);
    std::string env = "HUDDLE_COMMIT=" + commit + "\nHUDDLE_RELEASE=" + release + "\n";
    if (write_file_atomic(dir_ + "/release.env", env, 0644, error) < 0) return false;
    std::string parent = c_.repo.local_path.substr(0, c_.repo.local_path.rfind('/'));
    if (!parent.empty() && mkdir_p(parent, 0755, error) < 0) return false;
    if (switch_link(c_.repo.local_path, release, error) < 0) return false;
    spdlog::info("{} now points at {}", c_.repo.local_path, release);
    return true;
}

// A busy PID 1 may not answer within the call timeout. What it did not say
// is no verdict on the release: ask again, and failing that, say so
// (systemd_silent_) rather than blame the commit.
Systemd::UnitStatus Cycle::app_status(Systemd& sd) {
    Systemd::UnitStatus st;
    for (int attempt = 1;; ++attempt) {
        st = sd.unit_status(unit_);
        if (st.error.empty() || attempt == 3) break;
        spdlog::warn("systemd did not answer about {} ({}); asking again", unit_, st.error);
        ::sleep(1);
    }
    if (!st.error.empty()) systemd_silent_ = true;
    return st;
}

std::string Cycle::restart_and_check(Systemd& sd, const std::string& commit, const std::string& release, bool start_if_stopped) {
    Step s("restart", commit);
    auto unanswered = [&](const Systemd::UnitStatus& u) { return "systemd did not answer about " + unit_ + ": " + u.error; };
    Systemd::UnitStatus st = app_status(sd);
    if (!st.error.empty()) return unanswered(st);
    if (!st.loaded) return unit_ + " is not loaded (has huddle-gen run?)";
    bool running = st.active_state == "active" || st.active_state == "activating" || st.active_state == "reloading";
    if (!running && st.active_state != "failed" && !start_if_stopped) {
        spdlog::info("{} is stopped; the release is updated, the app is left stopped", unit_);
        return "";
    }
    usec_t stop = c_.app->stop_timeout.value_or(90 * kUsecPerSec);
    bool no_answer = false;
    std::string err = sd.start_and_wait(unit_, running, stop + 10 * 60 * kUsecPerSec, &no_answer);
    if (!err.empty() && no_answer) {
        systemd_silent_ = true;
        return "systemd did not answer the restart of " + unit_ + ": " + err;
    }
    if (!err.empty()) return "starting " + unit_ + " failed: " + err;
    st = app_status(sd);
    if (!st.error.empty()) return unanswered(st);
    if (st.active_state != "active") return unit_ + " is " + st.active_state + " after its start job";
    spdlog::info("{} restarted; checking it stays up for {}", unit_, format_timespan(c_.deploy.settle));
    Step h("health", commit);
    usec_t end = monotonic_usec() + c_.deploy.settle;
    auto stayed_up = [&](const Systemd::UnitStatus& now) {
        return now.active_state == "active" && now.invocation == st.invocation && now.n_restarts == st.n_restarts;
    };
    // Once a second: a restart in between shows in InvocationID and
    // NRestarts, so sampling faster only finds a crash sooner, and a fleet of
    // deploys sampling PID 1 ten times a second kept it from answering at all.
    while (monotonic_usec() < end) {
        usleep(static_cast<useconds_t>(std::min<usec_t>(kUsecPerSec, end - monotonic_usec())));
        Systemd::UnitStatus now = sd.unit_status(unit_);
        if (!now.error.empty())
            spdlog::warn("systemd did not answer about {} ({}); that check is skipped", unit_, now.error);
        else if (!stayed_up(now))
            return unit_ + " did not stay up (now " + now.active_state + ")";
    }
    // The verdict needs an answer at the end of the settle time.
    Systemd::UnitStatus last = app_status(sd);
    if (!last.error.empty()) return unanswered(last);
    if (!stayed_up(last)) return unit_ + " did not stay up (now " + last.active_state + ")";
    if (!c_.deploy.health_command.empty()) {
        RunSpec spec{c_.deploy.health_command, app_user(c_), app_group(c_), release, base_env(commit, release), c_.deploy.health_timeout};
        RunResult r = run_process(spec, [](const std::string& out) { spdlog::info("  {}", out); });
        if (!r.ok()) return "health command failed: " + r.describe();
    }
    if (c_.watchdog) {
        std::string w = watchdog_check(*c_.watchdog);
        if (!w.empty()) return w;
    }
    return "";
}

void Cycle::prune() {
    std::vector<std::string> keep = {state_.deployed, state_.previous};
    for (const auto& name : releases_to_prune(releases_, keep, c_.deploy.keep)) {
        remove_tree(releases_ + "/" + name);
        spdlog::info("pruned release {}", name);
    }
}

int Cycle::run() {
    std::string err;
    // libgit2 looks for ~/.ssh/known_hosts and fails without a HOME, which a
    // system service does not have; huddle checks host keys itself against
    // `known hosts`, so point HOME at the app's own directory.
    ::setenv("HOME", dir_.c_str(), 1);
    if (mkdir_p(releases_, 0755, err) < 0) {
        spdlog::error("{}", err);
        return kFetchTemporary;
    }
    auto lock = AppLock::try_acquire(dir_ + "/lock", err);
    if (!lock) {
        spdlog::warn("{}", err);
        return kFetchTemporary;
    }
    load_state();
    std::string live_target;
    LinkState ls = inspect_link(c_.repo.local_path, releases_, live_target);
    if (ls == LinkState::foreign) {
        spdlog::error("{} exists and is not huddle's release symlink; huddle touches nothing. Move it away (e.g. to {}.old) "
                      "or set another local path",
                      c_.repo.local_path, c_.repo.local_path);
        return kFetchRefused;
    }
    std::string live = ls == LinkState::ours ? live_target.substr(releases_.size() + 1) : "";

    GitAuth auth;
    if (!c_.repo.credential.empty()) auth.secret_path = "/etc/huddle/credentials/" + c_.repo.credential;
    auth.known_hosts = c_.repo.known_hosts;
    // A secret others can read is no longer a secret; one others can write
    // (or a known hosts file) lets them choose whom huddle trusts.
    for (auto [path, secret] : {std::pair{auth.secret_path, true}, std::pair{auth.known_hosts, false}}) {
        if (path.empty()) continue;
        if (std::string why = unsafe_permissions(path, secret); !why.empty()) {
            Step s("poll", "");
            spdlog::error("{} refused: {}; the running release is untouched", secret ? "credential" : "known hosts file", why);
            return kFetchConfig;
        }
    }
    auto repo = GitRepo::open_or_init(dir_ + "/repo", err);
    if (!repo) {
        spdlog::error("{}", err);
        return kFetchTemporary;
    }
    std::vector<RemoteRef> refs;
    {
        Step s("poll", "");
        if (repo->ls_remote(c_.repo.remote_path, auth, refs, err) < 0) {
            spdlog::error("{}; the running release is untouched", err);
            return kFetchTemporary;
        }
    }
    WantedRef w = select_ref(c_.repo, refs);
    if (!w.error.empty()) {
        Step s("poll", "");
        spdlog::error("{}; the running release is untouched", w.error);
        return kFetchTemporary;
    }
    ref_ = w.ref;
    std::string target = c_.repo.commit.empty() ? w.oid : c_.repo.commit;
    // A pin may be an abbreviation; the release is named by the full id.
    if (!c_.repo.commit.empty())
        if (std::string full = repo->resolve_commit(target); !full.empty()) target = full;
    // The common case on every machine, every few minutes: nothing to do,
    // and nothing written.
    if (!target.empty() && (target == live || live.rfind(target, 0) == 0)) return kFetchOk;
    if (is_bad(state_, target)) return kFetchOk;

    if (!c_.deploy.pre_pull.empty() && !run_scripts("pre-pull", c_.deploy.pre_pull, live.empty() ? dir_ : c_.repo.local_path, live, live_target))
        return fail_rejected(target, "pre-pull failed");
    if (!repo->has_commit(target)) {
        Step s("fetch", target);
        if (repo->fetch(c_.repo.remote_path, w.ref, auth, err) < 0) {
            spdlog::error("{}; the running release is untouched", err);
            return kFetchTemporary;
        }
        spdlog::info("fetched {} ({})", w.ref, target.substr(0, 12));
    }
    if (!c_.repo.commit.empty()) {
        std::string full = repo->resolve_commit(target);
        if (full.empty()) {
            spdlog::error("pinned commit {} is not on {}; the running release is untouched", target, w.ref);
            return kFetchTemporary;
        }
        target = full;
    }
    std::string release;
    if (!prepare_release(target, release)) return fail_rejected(target, "build or verify failed");
    // A deploy slot and systemd before switching: without either (all slots
    // busy, a bus at its connection limit), the running release is not
    // touched at all.
    std::unique_ptr<Systemd> sd;
    std::unique_ptr<DeploySlot> slot;
    if (c_.app) {
        bool waited = false;
        usec_t asked = monotonic_usec();
        slot = DeploySlot::acquire("huddle/deploy-slot", kDeploySlots, 5 * 60 * kUsecPerSec, &waited, err);
        if (slot && waited)
            spdlog::info("waited {} for a deploy slot ({} deploys restart their apps at once at most)",
                         format_timespan((monotonic_usec() - asked) / 100000 * 100000), kDeploySlots);
        if (slot) sd = Systemd::connect(err, Systemd::Route::system_bus);
        if (!sd) {
            spdlog::error("{}; release {} is ready and is switched to at the next poll; the running release is untouched", err,
                          target.substr(0, 12));
            return kFetchTemporary;
        }
    }
    if (!publish(target, release, err)) {
        spdlog::error("{}", err);
        return kFetchTemporary;
    }
    std::string why;
    if (sd) {
        why = restart_and_check(*sd, target, release, live.empty());
        if (!why.empty()) {
            Step s("rollback", target);
            if (systemd_silent_) {
                // Not the release's fault, as far as anyone knows: back to the
                // known good one, and this one is tried again at the next poll.
                spdlog::error("cannot tell whether release {} is healthy: {}; rolling back, to try it again at the next poll",
                              target.substr(0, 12), why);
            } else {
                spdlog::error("release {} is unhealthy: {}; rolling back", target.substr(0, 12), why);
                state_.bad = {target};
            }
            if (!live.empty()) {
                std::string e2;
                if (!publish(live, live_target, e2)) spdlog::error("{}", e2);
                // A release that crash-looped may have used up the app's
                // start limit; the good one must still start. Sent ahead of
                // the restart on the same connection.
                sd->queue_reset_failed(unit_);
                std::string back = sd->start_and_wait(unit_, true, 10 * 60 * kUsecPerSec);
                if (!back.empty()) spdlog::error("restarting the previous release failed: {}", back);
                spdlog::info("rolled back to {}", live.substr(0, 12));
            } else {
                sd->queue_stop(unit_);
                sd->run(5 * 60 * kUsecPerSec);
                ::unlink(c_.repo.local_path.c_str());
                spdlog::info("no earlier release to go back to; {} is stopped", unit_);
            }
            add_history(state_, {static_cast<int64_t>(::time(nullptr)), target, ref_, "rolled-back", why});
            if (!save_state(err)) spdlog::error("{}", err);
            return systemd_silent_ ? kFetchTemporary : kFetchRolledBack;
        }
    }
    Step s("deployed", target);
    state_.previous = live;
    state_.deployed = target;
    state_.ref = ref_;
    state_.bad.clear();
    add_history(state_, {static_cast<int64_t>(::time(nullptr)), target, ref_, "deployed", ""});
    if (!save_state(err)) spdlog::error("{}", err);
    spdlog::info("deployed {} ({})", target.substr(0, 12), ref_);
    prune();
    return kFetchOk;
}

int Cycle::rollback(const std::string& to) {
    std::string err;
    auto lock = AppLock::try_acquire(dir_ + "/lock", err);
    if (!lock) {
        spdlog::error("{}", err);
        return kFetchTemporary;
    }
    load_state();
    std::string live_target;
    if (inspect_link(c_.repo.local_path, releases_, live_target) != LinkState::ours) {
        spdlog::error("{} is not a huddle release; nothing to roll back", c_.repo.local_path);
        return kFetchRefused;
    }
    std::string live = live_target.substr(releases_.size() + 1);
    std::string target = to.empty() ? state_.previous : to;
    if (target.empty()) {
        spdlog::error("no earlier release is known; give one with --to COMMIT (see huddlectl history {})", c_.name);
        return kFetchConfig;
    }
    // Accept an abbreviated id of a release on disk.
    std::vector<std::string> none;
    for (const auto& name : releases_to_prune(releases_, none, 0))
        if (name.rfind(target, 0) == 0 && name.find(".tmp") == std::string::npos) target = name;
    std::string release = releases_ + "/" + target;
    struct stat st {};
    if (::lstat(release.c_str(), &st) < 0) {
        spdlog::error("release {} is not on disk (only the last {} are kept)", target, c_.deploy.keep);
        return kFetchConfig;
    }
    Step s("rollback", target);
    if (!publish(target, release, err)) {
        spdlog::error("{}", err);
        return kFetchTemporary;
    }
    if (c_.app) {
        auto sd = Systemd::connect(err, Systemd::Route::system_bus);
        if (sd) {
            Systemd::UnitStatus us = sd->unit_status(unit_);
            if (!us.error.empty())
                spdlog::error("systemd did not answer about {} ({}); restart it with: systemctl restart {}", unit_, us.error, unit_);
            if (us.active_state == "active" || us.active_state == "failed") {
                std::string e = sd->start_and_wait(unit_, true, 10 * 60 * kUsecPerSec);
                if (!e.empty()) spdlog::error("restarting {} failed: {}", unit_, e);
            }
        }
    }
    // Polls would redeploy the ref's commit at once; it stays bad until the ref moves.
    state_.bad = {live};
    state_.previous = live;
    state_.deployed = target;
    add_history(state_, {static_cast<int64_t>(::time(nullptr)), target, state_.ref, "rollback", "by hand, from " + live.substr(0, 12)});
    if (!save_state(err)) spdlog::error("{}", err);
    spdlog::info("rolled back from {} to {}", live.substr(0, 12), target.substr(0, 12));
    return kFetchOk;
}

}  // namespace

int run_cycle(const AppConfig& c) { return Cycle(c).run(); }

int run_watchdog(const AppConfig& c) {
    if (!c.watchdog || !c.app) return kFetchOk;
    ScopedLogFields f({{"HUDDLE_APP", c.name}, {"OBJECT_SYSTEMD_UNIT", app_unit_name(c.name)}, {"HUDDLE_STEP", "watchdog"}});
    std::string err;
    // A deploy in progress restarts the app itself; do not race it.
    auto lock = AppLock::try_acquire(app_dir(c.name) + "/lock", err);
    if (!lock) {
        // A deploy is running (it checks the app itself), or the lock cannot
        // be taken at all, which must not pass for a healthy app.
        if (err.rfind("another deploy", 0) == 0) return kFetchOk;
        spdlog::error("watchdog: cannot take the app's lock: {}", err);
        return kFetchTemporary;
    }
    auto sd = Systemd::connect(err, Systemd::Route::system_bus);
    if (!sd) {
        spdlog::error("{}", err);
        return kFetchTemporary;
    }
    std::string unit = app_unit_name(c.name);
    if (sd->unit_status(unit).active_state != "active") return kFetchOk;
    std::string why = watchdog_check(*c.watchdog);
    if (why.empty()) return kFetchOk;
    spdlog::error("{}; restarting {}", why, unit);
    std::string r = sd->start_and_wait(unit, true, 10 * 60 * kUsecPerSec);
    if (!r.empty()) {
        spdlog::error("restarting {} failed: {}", unit, r);
        return kFetchTemporary;
    }
    return kFetchOk;
}
int rollback(const AppConfig& c, const std::string& to_commit) { return Cycle(c).rollback(to_commit); }

}  // namespace huddle::sys
