// Going back: after a release that did not come up healthy (automatic), and
// the operator's `huddlectl rollback` (by hand).
#include <sys/stat.h>
#include <unistd.h>

#include "cycle.hpp"
#include "release.hpp"

namespace huddle::sys {
namespace {
constexpr usec_t kJobWait = 10 * 60 * kUsecPerSec;
}

// WHY says what was wrong with TARGET. When systemd did not answer
// (is_no_answer), that is no verdict on the release: back to the known good
// one, and TARGET is tried again at the next poll.
int Cycle::roll_back(UnitManager& sd, const std::string& target, const std::string& live, const std::string& live_target, const Error& why) {
    Step s("rollback", target);
    bool no_answer = is_no_answer(why.code);
    if (no_answer) {
        spdlog::error("cannot tell whether release {} is healthy: {}; rolling back, to try it again at the next poll", target.substr(0, 12),
                      why.message);
    } else {
        spdlog::error("release {} is unhealthy: {}; rolling back", target.substr(0, 12), why.message);
        state_.bad = {target};
    }
    bool switched_back = false;
    if (!live.empty()) {
        if (Status st = publish(live, live_target); !st)
            spdlog::error("{}", st.error().message);
        else
            switched_back = true;
        // A release that crash-looped may have used up the app's start
        // limit; the good one must still start.
        if (Status st = sd.reset_failed(unit_); !st) spdlog::warn("resetting {}'s failure count: {}", unit_, st.error().message);
        if (Status st = sd.start_and_wait(unit_, true, kJobWait); !st)
            spdlog::error("restarting the previous release failed: {}", st.error().message);
        spdlog::info("rolled back to {}", live.substr(0, 12));
    } else {
        if (Status st = sd.stop_and_wait(unit_, 5 * 60 * kUsecPerSec); !st)
            spdlog::error("stopping {} failed: {}", unit_, st.error().message);
        else
            switched_back = ::unlink(c_.repo.local_path.c_str()) == 0;
        spdlog::info("no earlier release to go back to; {} is stopped", unit_);
    }
    add_history(state_, {static_cast<int64_t>(::time(nullptr)), target, ref_, "rolled-back", why.message, {}});
    if (Status st = save_state(); !st) spdlog::error("{}", st.error().message);
    // An unhealthy release is not tried again until its ref moves: its
    // files would only fill the disk, one more per bad push.
    if (!no_answer && switched_back && target != live && target != state_.previous) {
        if (Status st = remove_tree(releases_ + "/" + target); !st)
            spdlog::warn("{}", st.error().message);
        else
            spdlog::info("removed the unhealthy release {}", target.substr(0, 12));
    }
    return no_answer ? kFetchTemporary : kFetchRolledBack;
}

int Cycle::rollback_by_hand(const std::string& to) {
    auto lock = AppLock::try_acquire(dir_ + "/lock");
    if (!lock) {
        spdlog::error("{}", lock.error().message);
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
    for (const auto& name : releases_to_prune(releases_, {}, 0))
        if (name.rfind(target, 0) == 0 && name.find(".tmp") == std::string::npos) target = name;
    std::string release = releases_ + "/" + target;
    struct stat st {};
    if (::lstat(release.c_str(), &st) < 0) {
        spdlog::error("release {} is not on disk (only the last {} are kept)", target, c_.deploy.keep);
        return kFetchConfig;
    }
    Step s("rollback", target);
    if (Status p = publish(target, release); !p) {
        spdlog::error("{}", p.error().message);
        return kFetchTemporary;
    }
    if (c_.app) {
        if (auto sd = env_.connect_systemd()) {
            auto us = (*sd)->unit_status(unit_);
            if (!us)
                spdlog::error("systemd did not answer about {} ({}); restart it with: systemctl restart {}", unit_, us.error().message, unit_);
            else if (us->active_state == "active" || us->active_state == "failed")
                if (Status r = (*sd)->start_and_wait(unit_, true, kJobWait); !r)
                    spdlog::error("restarting {} failed: {}", unit_, r.error().message);
        }
    }
    // Polls would redeploy the ref's commit at once; it stays bad until the ref moves.
    state_.bad = {live};
    state_.previous = live;
    state_.deployed = target;
    state_.signer = signer_of_release(state_, target);
    add_history(state_, {static_cast<int64_t>(::time(nullptr)), target, state_.ref, "rollback", "by hand, from " + live.substr(0, 12), state_.signer});
    if (Status sv = save_state(); !sv) spdlog::error("{}", sv.error().message);
    spdlog::info("rolled back from {} to {}", live.substr(0, 12), target.substr(0, 12));
    return kFetchOk;
}

}  // namespace huddle::sys
