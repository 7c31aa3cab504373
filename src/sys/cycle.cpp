// The deploy cycle: look (live link, remote, decision), fetch and build,
// take a slot and systemd, switch, restart and settle, and record the end.
// Every failure is logged here, once, with what it means for the app.
#include "cycle.hpp"

#include <sys/stat.h>

#include "core/appuser.hpp"
#include "core/unitname.hpp"
#include "fs.hpp"
#include "process.hpp"
#include "release.hpp"

namespace huddle::sys {

std::string app_user(const AppConfig& c) { return c.app ? c.app->user : default_app_user(c.name); }
std::string app_group(const AppConfig& c) { return c.app ? c.app->group : ""; }

Cycle::Cycle(const AppConfig& c, const DeployEnv& env)
    : c_(c),
      env_(env),
      dir_(env.state_dir + "/" + c.name),
      releases_(dir_ + "/releases"),
      unit_(app_unit_name(c.name)),
      fields_({{"HUDDLE_APP", c.name}, {"OBJECT_SYSTEMD_UNIT", app_unit_name(c.name)}}) {}

// A secret others can read is no longer a secret; one others can write (or
// a known hosts file) lets them choose whom huddle trusts. -EPERM.
Status Cycle::check_secrets(const GitAuth& auth) const {
    for (auto [path, secret] : {std::pair{auth.secret_path, true}, std::pair{auth.known_hosts, false}}) {
        if (path.empty()) continue;
        if (std::string why = unsafe_permissions(path, secret); !why.empty())
            return Error{-EPERM, std::string(secret ? "credential" : "known hosts file") + " refused: " + why};
    }
    return {};
}

// Another app's user may not read this app's code: only root and the app's
// group enter its releases (a files-only sync's are for anyone to read), and
// the repository, its whole history, is root's. Set at every cycle, so that
// an install made before this moves over.
Status Cycle::protect_dirs() {
    unsigned gid = 0, mode = 0755;
    if (c_.app) {
        auto ids = lookup_user(app_user(c_), app_group(c_));
        if (!ids) return ids.error();
        gid = ids->gid;
        mode = 0750;
    }
    if (Status st = own_dir(releases_, 0, gid, mode); !st) return st;
    // One mkdir, not mkdir_p: the state directory is there (releases_ is in it).
    if (::mkdir((dir_ + "/repo").c_str(), 0700) < 0 && errno != EEXIST) return errno_error(errno, "cannot create " + dir_ + "/repo");
    return own_dir(dir_ + "/repo", 0, 0, 0700);
}

Result<Cycle::Look> Cycle::look(bool create_repo) {
    Look l;
    LinkState ls = inspect_link(c_.repo.local_path, releases_, l.live_target);
    if (ls == LinkState::ours) l.live = l.live_target.substr(releases_.size() + 1);
    if (!c_.repo.credential.empty()) l.auth.secret_path = env_.credentials_dir + "/" + c_.repo.credential;
    l.auth.known_hosts = c_.repo.known_hosts;
    PollFacts facts{ls == LinkState::foreign, l.live, state_, {}, ""};
    if (!facts.live_foreign) {
        if (Status st = check_secrets(l.auth); !st) return st.error();
        auto repo = env_.open_repository(dir_ + "/repo", create_repo, default_fetch_user(c_.name));
        if (!repo) return repo.error();
        l.repo = std::move(*repo);
        auto refs = l.repo->ls_remote(c_.repo.remote_path, l.auth);
        if (!refs) return refs.error();
        facts.refs = std::move(*refs);
        if (!c_.repo.commit.empty()) facts.pinned_full = l.repo->resolve_commit(c_.repo.commit);
    }
    l.verdict = decide(c_.repo, facts);
    if (l.verdict.kind == VerdictKind::deploy)
        for (const auto& r : facts.refs)
            if (r.name == l.verdict.ref && r.name.rfind("refs/tags/", 0) == 0) l.tag_object = r.oid;
    return l;
}

Result<Verdict> Cycle::dry_run() {
    load_state();
    auto l = look(false);
    if (!l) return l.error();
    return l->verdict;
}

int Cycle::run() {
    // libgit2 looks for ~/.ssh/known_hosts and fails without a HOME, which a
    // system service does not have; huddle checks host keys itself against
    // `known hosts`, so point HOME at the app's own directory.
    ::setenv("HOME", dir_.c_str(), 1);
    if (Status st = mkdir_p(releases_, 0755); !st) {
        spdlog::error("{}", st.error().message);
        return kFetchTemporary;
    }
    auto lock = AppLock::try_acquire(dir_ + "/lock");
    if (!lock) {
        spdlog::warn("{}", lock.error().message);
        return kFetchTemporary;
    }
    if (Status st = protect_dirs(); !st) {
        spdlog::error("{}; the running release is untouched", st.error().message);
        return kFetchTemporary;
    }
    load_state();
    auto l = look(true);
    if (!l) {
        Step s("poll", "");
        spdlog::error("{}; the running release is untouched", l.error().message);
        return l.error().code == -EPERM ? kFetchConfig : kFetchTemporary;
    }
    const Verdict& v = l->verdict;
    switch (v.kind) {
    case VerdictKind::up_to_date:
    case VerdictKind::skip_bad: return kFetchOk;  // and nothing written
    case VerdictKind::refuse: {
        Step s("poll", "");
        if (v.refusal == Refusal::foreign_path) {
            spdlog::error("{}", v.why);
            return kFetchRefused;
        }
        spdlog::error("{}; the running release is untouched", v.why);
        return kFetchTemporary;
    }
    case VerdictKind::deploy: break;
    }
    ref_ = v.ref;
    std::string target = v.commit;
    if (!c_.deploy.pre_pull.empty()) {
        Status st = run_scripts("pre-pull", c_.deploy.pre_pull, l->live.empty() ? dir_ : c_.repo.local_path, l->live, l->live_target);
        if (!st) return fail_rejected(target, st.error().message);
    }
    std::string release;
    if (int rc = fetch_and_build(*l, release); rc != kFetchOk) return rc;
    target = release.substr(releases_.size() + 1);
    // A deploy slot and systemd before switching: without either (all slots
    // busy, a bus at its connection limit), the running release is not
    // touched at all.
    std::unique_ptr<DeploySlot> slot;
    std::unique_ptr<UnitManager> sd;
    if (int rc = take_slot_and_systemd(target, slot, sd); rc != kFetchOk) return rc;
    if (Status st = publish(target, release); !st) {
        spdlog::error("{}", st.error().message);
        return kFetchTemporary;
    }
    if (sd) {
        Status st = restart_and_check(*sd, target, release, l->live.empty());
        if (!st) return roll_back(*sd, target, l->live, l->live_target, st.error());
    }
    return deployed(target, l->live);
}

// Fetch the commit when it is new here, then build and verify its release.
int Cycle::fetch_and_build(Look& l, std::string& release) {
    std::string target = l.verdict.commit;
    // A tag's own object carries its signature; the commit may be here already.
    bool need_tag = verifies_tag() && !l.tag_object.empty() && !l.repo->has_object(l.tag_object);
    if (!l.repo->has_commit(target) || need_tag) {
        Step s("fetch", target);
        if (Status st = l.repo->fetch(c_.repo.remote_path, ref_, l.auth, c_.limits.fetch); !st) {
            // The same push would cost as much at every poll: remembered as bad.
            if (st.error().code == -EFBIG) return fail_rejected(target, st.error().message, "fetch");
            spdlog::error("{}; the running release is untouched", st.error().message);
            return kFetchTemporary;
        }
        spdlog::info("fetched {} ({})", ref_, target.substr(0, 12));
    }
    if (!c_.repo.commit.empty()) {
        std::string full = l.repo->resolve_commit(target);
        if (full.empty()) {
            Step s("fetch", target);
            spdlog::error("pinned commit {} is not on {}; the running release is untouched", target, ref_);
            return kFetchTemporary;
        }
        target = full;
    }
    if (Status st = check_trust(l, target); !st) {
        if (st.error().code == -EKEYREJECTED) return fail_rejected(target, st.error().message, "signature");
        Step s("signature", target);
        spdlog::error("{}; the running release is untouched", st.error().message);
        return kFetchTemporary;
    }
    release = releases_ + "/" + target;
    if (Status st = prepare_release(*l.repo, target, release); !st) return fail_rejected(target, st.error().message);
    return kFetchOk;
}

int Cycle::take_slot_and_systemd(const std::string& target, std::unique_ptr<DeploySlot>& slot, std::unique_ptr<UnitManager>& sd) {
    if (!c_.app) return kFetchOk;  // files only: nothing to restart
    auto ready_later = [&](const Error& e) {
        spdlog::error("{}; release {} is ready and is switched to at the next poll; the running release is untouched", e.message,
                      target.substr(0, 12));
        return kFetchTemporary;
    };
    auto s = DeploySlot::acquire(env_.slot_dir, kDeploySlots, env_.slot_wait);
    if (!s) return ready_later(s.error());
    if (usec_t waited = (*s)->waited())
        spdlog::info("waited {} for a deploy slot ({} deploys restart their apps at once at most)",
                     format_timespan(waited / 100000 * 100000), kDeploySlots);
    auto connected = env_.connect_systemd();
    if (!connected) return ready_later(connected.error());
    slot = std::move(*s);
    sd = std::move(*connected);
    return kFetchOk;
}

int Cycle::deployed(const std::string& target, const std::string& live) {
    Step s("deployed", target);
    state_.previous = live;
    state_.deployed = target;
    state_.ref = ref_;
    state_.signer = signer_;
    state_.bad.clear();
    // Only releases still on disk (prune removes the others after this save).
    std::erase_if(state_.verbatim, [&](const std::string& c) {
        struct stat st {};
        return ::lstat((releases_ + "/" + c).c_str(), &st) < 0;
    });
    add_history(state_, {static_cast<int64_t>(::time(nullptr)), target, ref_, "deployed", "", signer_});
    if (Status st = save_state(); !st) spdlog::error("{}", st.error().message);
    if (signer_.principal.empty()) {
        spdlog::info("deployed {} ({})", target.substr(0, 12), ref_);
    } else {
        ScopedLogFields who({{"HUDDLE_SIGNER", signer_.principal}, {"HUDDLE_SIGNER_KEY", signer_.fingerprint}});
        spdlog::info("deployed {} ({}), signed by {} ({})", target.substr(0, 12), ref_, signer_.principal, signer_.fingerprint);
    }
    prune();
    return kFetchOk;
}

int Cycle::fail_rejected(const std::string& commit, const std::string& why, const char* step) {
    Step s(step, commit);
    state_.bad = {commit};
    add_history(state_, {static_cast<int64_t>(::time(nullptr)), commit, ref_, "rejected", why, {}});
    if (Status st = save_state(); !st) spdlog::error("{}", st.error().message);
    spdlog::error("release {} rejected ({}); the running release is untouched; {} is not retried until {} moves", commit.substr(0, 12), why,
                  commit.substr(0, 12), ref_);
    return kFetchRejected;
}

}  // namespace huddle::sys
