// Before anything of a new commit is checked out: it must not take the app
// back to an older or unrelated history (rewind = false), and what `verify`
// names must carry a good signature by a signer the config allows. A
// refusal (-EKEYREJECTED) is the commit's: it is marked bad, exit 4. Any
// other error is a check that could not run, which says nothing of the
// commit: retried at the next poll.
#include "cycle.hpp"

namespace huddle::sys {

Result<Signer> Cycle::check_signature(const SignedPayload& sp, const std::string& what, const std::string& commit) {
    auto who = env_.verify_signature(sp, c_.repo, dir_);
    if (!who) return Error{who.error().code, "signature: " + what + ": " + who.error().message};
    Step s("signature", commit);
    spdlog::info("{}: good signature by {} ({})", what, who->principal, who->fingerprint);
    return who;
}

Status Cycle::check_trust(Look& l, const std::string& commit) {
    const RepositoryConfig& r = c_.repo;
    signer_ = {};
    // A pinned commit is the operator's own choice, as huddlectl rollback is.
    if (!r.rewind && r.commit.empty() && !l.live.empty() && l.live != commit) {
        auto d = l.repo->descends_from(commit, l.live);
        if (!d) return d.error();
        if (!*d)
            return Error{-EKEYREJECTED, "rewind: " + commit.substr(0, 12) + " does not descend from the deployed " + l.live.substr(0, 12) +
                                            " (the ref went back to an older commit or to another history); set rewind = true to follow it, "
                                            "or go back on purpose with huddlectl rollback"};
    }
    if (r.verify == VerifyMode::none) return {};
    if (verifies_tag()) {
        std::string what = "tag " + ref_;
        if (l.tag_object.empty() || l.tag_object == commit)
            return Error{-EKEYREJECTED, "signature: " + what + " is a lightweight tag; verify = " + verify_name(r.verify) +
                                            " needs an annotated, signed tag (git tag -s)"};
        auto raw = l.repo->tag_object(l.tag_object, commit);
        if (!raw) {
            int code = raw.error().code;
            bool tags_other = code == -EMEDIUMTYPE || code == -EXDEV;
            return Error{tags_other ? -EKEYREJECTED : code, "signature: " + what + ": " + raw.error().message};
        }
        auto sp = split_tag_signature(*raw);
        if (!sp) return Error{-EKEYREJECTED, "signature: " + what + ": not signed"};
        auto who = check_signature(*sp, what, commit);
        if (!who) return who.error();
        signer_ = *who;
    }
    if (r.verify == VerifyMode::commit || r.verify == VerifyMode::both) {
        auto sp = l.repo->commit_signature(commit);
        if (!sp) return sp.error();
        auto who = check_signature(*sp, "commit " + commit.substr(0, 12), commit);
        if (!who) return who.error();
        signer_ = *who;
    }
    return {};
}

}  // namespace huddle::sys
