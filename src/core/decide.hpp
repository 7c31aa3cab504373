// What one poll of one app should do, from what the cycle found: the live
// link, the remembered state, the remote's refs and the config. Pure, as
// plan.hpp is for units: huddle-fetch acts on the verdict, --dry-run and
// `huddlectl status --remote` print it.
#pragma once
#include <string>
#include <vector>

#include "config.hpp"
#include "refselect.hpp"
#include "state.hpp"

namespace huddle {

struct PollFacts {
    bool live_foreign = false;  // local path exists and is not huddle's symlink
    std::string live;           // the commit the live link points at; "" when none
    AppState state;
    std::vector<RemoteRef> refs;  // what the remote advertises
    // The full id of a pinned commit when the repository has it; "" when
    // not pinned or not fetched yet (then the pin is taken as written).
    std::string pinned_full;
};

enum class VerdictKind { up_to_date, skip_bad, deploy, refuse };
enum class Refusal { none, foreign_path, no_ref };

struct Verdict {
    VerdictKind kind = VerdictKind::up_to_date;
    std::string commit;  // the commit wanted (live, bad or to deploy)
    std::string ref;     // the ref followed
    Refusal refusal = Refusal::none;
    std::string why;     // for refuse: what is wrong and what to do
};

Verdict decide(const RepositoryConfig& repo, const PollFacts& facts);

// One line for people: "would deploy 1a2b3c4d5e6f (refs/heads/main)", ...
std::string describe(const Verdict& v);

}  // namespace huddle
