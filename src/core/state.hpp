// What huddle-fetch remembers about an app between polls, in
// /var/lib/huddle/APP/state.json. Pure (de)serialization.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace huddle {

struct HistoryEntry {
    int64_t time = 0;     // seconds since the epoch
    std::string commit;
    std::string ref;
    std::string result;   // deployed, rejected, rolled-back, rollback (by hand)
    std::string detail;
};

struct AppState {
    std::string deployed;  // commit live now ("" before the first deploy)
    std::string previous;  // commit live before it
    std::string ref;       // ref followed at the last deploy
    std::vector<std::string> bad;  // commits that failed; skipped until the ref points elsewhere
    std::vector<HistoryEntry> history;  // newest last, bounded
};

std::string state_to_json(const AppState& s);
// Empty optional with error set if the text is not a state file.
std::optional<AppState> state_from_json(const std::string& text, std::string& error);

bool is_bad(const AppState& s, const std::string& commit);
void add_history(AppState& s, HistoryEntry e, size_t max = 100);

}  // namespace huddle
