// The deploy cycle's phases: state, steps, the release, the switch, the
// restart and the settle. Each returns what went wrong; Cycle logs it.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "core/size.hpp"
#include "cycle.hpp"
#include "fs.hpp"
#include "process.hpp"
#include "release.hpp"
#include "watchdog.hpp"

namespace huddle::sys {
namespace {
constexpr usec_t kJobWait = 10 * 60 * kUsecPerSec;  // beyond the app's own stop timeout
}  // namespace

void Cycle::load_state() {
    auto r = read_file(dir_ + "/state.json", 16 * 1024 * 1024);
    if (!r) return;  // first run
    std::string err;
    auto s = state_from_json(*r, err);
    if (!s) {
        spdlog::warn("{}/state.json is unreadable ({}); starting from what local path points at", dir_, err);
        return;
    }
    state_ = *s;
}

Status Cycle::save_state() { return write_file_atomic(dir_ + "/state.json", state_to_json(state_), 0600); }  // root's alone: the history, the signers

std::vector<std::string> Cycle::base_env(const std::string& commit, const std::string& release) const {
    std::string user = app_user(c_);
    auto ids = lookup_user(user, app_group(c_));
    std::vector<std::string> env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + (ids ? ids->home : "/"),
                                    "USER=" + user, "LANG=C.UTF-8", "HUDDLE_APP=" + c_.name, "HUDDLE_COMMIT=" + commit,
                                    "HUDDLE_RELEASE=" + release, "HUDDLE_DATA=" + dir_ + "/data"};
    if (c_.app)
        for (const auto& [k, v] : c_.app->environment) env.push_back(k + "=" + v);
    return env;
}

Status Cycle::run_scripts(const char* step, const std::vector<std::string>& lines, const std::string& cwd, const std::string& commit,
                          const std::string& release) {
    Step s(step, commit);
    if (!scopes_ && env_.step_scopes && !lines.empty()) {
        auto made = env_.step_scopes(c_);
        if (!made) return Error{made.error().code, std::string(step) + ": cannot reach systemd for the step's scope: " + made.error().message};
        scopes_ = std::move(*made);
    }
    for (const auto& line : lines) {
        spdlog::info("{}: running {}", step, line);
        RunSpec spec{{"/bin/sh", "-c", line}, app_user(c_), app_group(c_), cwd, base_env(commit, release), c_.deploy.timeout, "", scopes_.get()};
        auto r = run_process(spec, [](const std::string& out) { spdlog::info("  {}", out); });
        if (!r) return Error{r.error().code, std::string(step) + ": '" + line + "' could not start: " + r.error().message};
        if (!r->ok()) return Error{-EIO, std::string(step) + ": '" + line + "' failed: " + r->describe()};
    }
    return {};
}

// Check the commit out into RELEASE.tmp, build and verify it there as the
// app's user, then make it root's and read-only and rename it into place.
Status Cycle::prepare_release(Repository& repo, const std::string& commit, const std::string& release) {
    struct stat info {};
    if (::lstat(release.c_str(), &info) == 0) return {};  // built and verified before (e.g. the release rolled back to)
    std::string tmp = release + ".tmp";
    // What a killed cycle left half done; one that cannot be removed now is
    // moved aside (a later prune takes it), not built upon.
    if (Status st = remove_tree(tmp); !st) {
        spdlog::warn("{}", st.error().message);
        std::string aside = tmp + "-stale-" + std::to_string(::getpid()) + "-" + std::to_string(::time(nullptr));
        if (::rename(tmp.c_str(), aside.c_str()) < 0) return errno_error(errno, "cannot move the unfinished " + tmp + " aside");
    }
    auto failed = [&](Error e) {
        (void)remove_tree(tmp);
        return e;
    };
    bool steps = !c_.deploy.build.empty() || !c_.deploy.verify.empty();
    {
        Step s("checkout", commit);
        // A release no step has written holds exactly its commit's tree:
        // the new one can share its unchanged files (see Repository::checkout).
        std::string base = state_.deployed, base_dir = releases_ + "/" + state_.deployed;
        bool verbatim = std::find(state_.verbatim.begin(), state_.verbatim.end(), base) != state_.verbatim.end();
        if (steps || base.empty() || !verbatim) base.clear();
        auto linked = repo.checkout(commit, tmp, c_.limits.release, base, base_dir);
        if (!linked) return failed(linked.error());
        if (*linked)
            spdlog::info("checked out {} into {} ({} unchanged files shared with {})", commit.substr(0, 12), release, *linked, base.substr(0, 12));
        else
            spdlog::info("checked out {} into {}", commit.substr(0, 12), release);
    }
    // Build steps write into the release as the app's user; without steps it
    // stays root's from the start.
    if (steps) {
        auto ids = lookup_user(app_user(c_), app_group(c_));
        if (!ids) return failed(ids.error());
        if (Status st = chown_tree(tmp, ids->uid, ids->gid, false); !st) return failed(st.error());
    }
    if (Status st = run_scripts("build", c_.deploy.build, tmp, commit, release); !st) return failed(st.error());
    if (Status st = run_scripts("verify", c_.deploy.verify, tmp, commit, release); !st) return failed(st.error());
    // Read-only to the app from here on (a plain checkout is root's and not
    // writable by others already); then it appears, complete, in one rename.
    if (steps) {
        if (Status st = chown_tree(tmp, 0, 0, true); !st) return failed({st.error().code, "cannot finish the release: " + st.error().message});
        // The checkout was bounded before it was written; what the steps
        // added is measured now, root's and still.
        auto size = tree_size(tmp);
        if (!size) return failed(size.error());
        if (*size > c_.limits.release)
            return failed({-EFBIG, fmt::format("the release takes {} after its steps, more than {} (limits release)", format_size(*size),
                                               format_size(c_.limits.release))});
    }
    if (::rename(tmp.c_str(), release.c_str()) < 0) return failed(errno_error(errno, "cannot finish the release " + release));
    // Recorded with the deploy (state.json): without it, the next checkout writes every file.
    std::erase(state_.verbatim, commit);
    if (!steps) state_.verbatim.push_back(commit);
    return {};
}

Status Cycle::publish(const std::string& commit, const std::string& release) {
    Step s("switch", commit);
    std::string env = "HUDDLE_COMMIT=" + commit + "\nHUDDLE_RELEASE=" + release + "\n";
    if (Status st = write_file_atomic(dir_ + "/release.env", env, 0600); !st) return st;
    std::string parent = c_.repo.local_path.substr(0, c_.repo.local_path.rfind('/'));
    if (!parent.empty())
        if (Status st = mkdir_p(parent, 0755); !st) return st;
    if (Status st = switch_link(c_.repo.local_path, release); !st) return st;
    spdlog::info("{} now points at {}", c_.repo.local_path, release);
    return {};
}

// A busy PID 1 may not answer within the call timeout. What it did not say
// is no verdict on the release: ask again, and failing that, return the
// error (is_no_answer) rather than blame the commit.
Result<UnitStatus> Cycle::app_status(UnitManager& sd) {
    for (int attempt = 1;; ++attempt) {
        auto st = sd.unit_status(unit_);
        if (st || attempt == 3 || !is_no_answer(st.code())) return st;
        spdlog::warn("systemd did not answer about {} ({}); asking again", unit_, st.error().message);
        env_.sleep(kUsecPerSec);
    }
}

namespace {
Error no_answer_about(const std::string& unit, const Error& e) { return {e.code, "systemd did not answer about " + unit + ": " + e.message}; }
bool running(const UnitStatus& st) {
    return st.active_state == "active" || st.active_state == "activating" || st.active_state == "reloading";
}
}  // namespace

Status Cycle::restart_and_check(UnitManager& sd, const std::string& commit, const std::string& release, bool start_if_stopped) {
    Step s("restart", commit);
    auto st = app_status(sd);
    if (!st) return no_answer_about(unit_, st.error());
    if (!st->loaded) return Error{-ENOENT, unit_ + " is not loaded (has huddle-gen run?)"};
    if (!running(*st) && st->active_state != "failed" && !start_if_stopped) {
        spdlog::info("{} is stopped; the release is updated, the app is left stopped", unit_);
        return {};
    }
    usec_t stop = c_.app->stop_timeout.value_or(90 * kUsecPerSec);
    if (Status r = sd.start_and_wait(unit_, running(*st), stop + kJobWait); !r) {
        if (is_no_answer(r.code())) return Error{r.code(), "systemd did not answer the restart of " + unit_ + ": " + r.error().message};
        return Error{r.code(), "starting " + unit_ + " failed: " + r.error().message};
    }
    auto started = app_status(sd);
    if (!started) return no_answer_about(unit_, started.error());
    if (started->active_state != "active") return Error{-EIO, unit_ + " is " + started->active_state + " after its start job"};
    spdlog::info("{} restarted; checking it stays up for {}", unit_, format_timespan(c_.deploy.settle));
    Step h("health", commit);
    if (Status r = settle(sd, *started); !r) return r;
    return final_checks(commit, release);
}

// The app must stay up, without a restart, for `settle`. Once a second: a
// restart in between shows in InvocationID and NRestarts, so sampling faster
// only finds a crash sooner, and a fleet of deploys sampling PID 1 ten times
// a second kept it from answering at all.
Status Cycle::settle(UnitManager& sd, const UnitStatus& started) {
    auto stayed_up = [&](const UnitStatus& now) {
        return now.active_state == "active" && now.invocation == started.invocation && now.n_restarts == started.n_restarts;
    };
    auto went_down = [&](const UnitStatus& now) { return Error{-EIO, unit_ + " did not stay up (now " + now.active_state + ")"}; };
    usec_t end = env_.now() + c_.deploy.settle;
    while (env_.now() < end) {
        env_.sleep(std::min<usec_t>(kUsecPerSec, end - env_.now()));
        auto now = sd.unit_status(unit_);
        if (!now)
            spdlog::warn("systemd did not answer about {} ({}); that check is skipped", unit_, now.error().message);
        else if (!stayed_up(*now))
            return went_down(*now);
    }
    // The verdict needs an answer at the end of the settle time.
    auto last = app_status(sd);
    if (!last) return no_answer_about(unit_, last.error());
    if (!stayed_up(*last)) return went_down(*last);
    return {};
}

Status Cycle::final_checks(const std::string& commit, const std::string& release) {
    if (!c_.deploy.health_command.empty()) {
        RunSpec spec{c_.deploy.health_command, app_user(c_), app_group(c_), release, base_env(commit, release), c_.deploy.health_timeout, ""};
        auto r = run_process(spec, [](const std::string& out) { spdlog::info("  {}", out); });
        // -EIO whatever the cause: the release's verdict, never "no answer".
        if (!r) return Error{-EIO, "health command could not start: " + r.error().message};
        if (!r->ok()) return Error{-EIO, "health command failed: " + r->describe()};
    }
    if (c_.watchdog)
        if (Status w = watchdog_check(*c_.watchdog); !w) return w;
    return {};
}

void Cycle::prune() {
    std::vector<std::string> keep = {state_.deployed, state_.previous};
    for (const auto& name : releases_to_prune(releases_, keep, c_.deploy.keep)) {
        if (Status st = remove_tree(releases_ + "/" + name); !st)
            spdlog::warn("{}", st.error().message);
        else
            spdlog::info("pruned release {}", name);
    }
}

}  // namespace huddle::sys
