// What huddle-fetch remembers about an app between polls, in
// /var/lib/huddle/APP/state.json. Pure (de)serialization.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "signature.hpp"

namespace huddle {

struct HistoryEntry {
    int64_t time = 0;     // seconds since the epoch
    std::string commit;
    std::string ref;
    std::string result;   // deployed, rejected, rolled-back, rollback (by hand)
    std::string detail;
    Signer signer;        // who signed the commit or tag deployed; "" when not checked
};

struct AppState {
    std::string deployed;  // commit live now ("" before the first deploy)
    std::string previous;  // commit live before it
    std::string ref;       // ref followed at the last deploy
    Signer signer;         // who signed what is deployed; "" when not checked
    std::vector<std::string> bad;  // commits that failed; skipped until the ref points elsewhere
    // Commits whose release holds exactly the commit's tree, no step having
    // written it: a checkout may share their files (Repository::checkout).
    // Root's word, kept here where no step can write.
    std::vector<std::string> verbatim;
    std::vector<HistoryEntry> history;  // newest last, bounded
};

std::string state_to_json(const AppState& s);
// Empty optional with error set if the text is not a state file.
std::optional<AppState> state_from_json(const std::string& text, std::string& error);

bool is_bad(const AppState& s, const std::string& commit);
// Who signed COMMIT when it was last deployed, from the history ("" if unknown).
Signer signer_of_release(const AppState& s, const std::string& commit);
void add_history(AppState& s, HistoryEntry e, size_t max = 100);

}  // namespace huddle
