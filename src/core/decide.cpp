#include "decide.hpp"

namespace huddle {

Verdict decide(const RepositoryConfig& repo, const PollFacts& f) {
    Verdict v;
    if (f.live_foreign) {
        v.kind = VerdictKind::refuse;
        v.refusal = Refusal::foreign_path;
        v.why = repo.local_path + " exists and is not huddle's release symlink; huddle touches nothing. Move it away (e.g. to " +
                repo.local_path + ".old) or set another local path";
        return v;
    }
    WantedRef w = select_ref(repo, f.refs);
    if (!w.error.empty()) {
        v.kind = VerdictKind::refuse;
        v.refusal = Refusal::no_ref;
        v.why = w.error;
        return v;
    }
    v.ref = w.ref;
    // A pin may be an abbreviation; the release is named by the full id.
    v.commit = repo.commit.empty() ? w.oid : !f.pinned_full.empty() ? f.pinned_full : repo.commit;
    // The common case on every machine, every few minutes: nothing to do.
    if (!v.commit.empty() && (v.commit == f.live || f.live.rfind(v.commit, 0) == 0))
        v.kind = VerdictKind::up_to_date;
    else if (is_bad(f.state, v.commit))
        v.kind = VerdictKind::skip_bad;
    else
        v.kind = VerdictKind::deploy;
    return v;
}

std::string describe(const Verdict& v) {
    std::string commit = v.commit.substr(0, 12);
    switch (v.kind) {
    case VerdictKind::up_to_date: return "up to date at " + commit + " (" + v.ref + ")";
    case VerdictKind::skip_bad: return "would skip " + commit + " (" + v.ref + "): it failed before; retried when " + v.ref + " moves";
    case VerdictKind::deploy: return "would deploy " + commit + " (" + v.ref + ")";
    case VerdictKind::refuse: return "refused: " + v.why;
    }
    return "";
}

}  // namespace huddle
