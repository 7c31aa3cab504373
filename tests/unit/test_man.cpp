// The man pages against the code: every key the loader accepts has an entry in
// its section of huddle.conf(5), and the page documents no key the loader
// rejects; huddle-fetch(8) lists every exit code huddle-fetch has; huddle-gen(8)
// lists the journal MESSAGE_IDs. The pages are read from the source tree
// (HUDDLE_SOURCE_ROOT, set in tests/meson.build).
#include "catch.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/keys.hpp"
#include "sys/deploy.hpp"
#include "sys/log.hpp"

#ifndef HUDDLE_SOURCE_ROOT
#error "HUDDLE_SOURCE_ROOT must name the source tree (see tests/meson.build)"
#endif

using namespace huddle;

namespace {

std::vector<std::string> page_lines(const std::string& page) {
    std::string path = std::string(HUDDLE_SOURCE_ROOT) + "/man/" + page;
    std::ifstream in(path);
    INFO("reading " << path);
    REQUIRE(in.good());
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// The lines under `heading` (a whole line, such as "## [repository]" or
// "# EXIT STATUS") up to the next heading of any level; nullopt if absent.
std::optional<std::vector<std::string>> part(const std::vector<std::string>& lines, const std::string& heading) {
    auto it = std::find(lines.begin(), lines.end(), heading);
    if (it == lines.end()) return std::nullopt;
    std::vector<std::string> out;
    for (++it; it != lines.end() && (it->empty() || (*it)[0] != '#'); ++it) out.push_back(*it);
    return out;
}

// The terms of a part's entries: lines that start with "*term*" at column 0.
std::vector<std::string> terms(const std::vector<std::string>& lines) {
    std::vector<std::string> out;
    for (const auto& l : lines) {
        if (l.size() < 3 || l[0] != '*') continue;
        size_t end = l.find('*', 1);
        if (end != std::string::npos && end > 1) out.push_back(l.substr(1, end - 1));
    }
    return out;
}

bool has_term(const std::vector<std::string>& ts, const std::string& key) {
    return std::any_of(ts.begin(), ts.end(), [&](const std::string& t) { return normalize_key(t) == normalize_key(key); });
}

}  // namespace

TEST_CASE("man: huddle.conf(5) has an entry for every key the loader accepts, in its section") {
    const auto lines = page_lines("huddle.conf.5.scd");
    const auto schema = known_keys();
    REQUIRE(schema.size() >= 7);
    for (const auto& [section, keys] : schema) {
        DYNAMIC_SECTION("[" << section << "]") {
            auto p = part(lines, "## [" + section + "]");
            {
                INFO("huddle.conf.5.scd needs a heading '## [" << section << "]'");
                REQUIRE(p);
            }
            const auto ts = terms(*p);
            for (const auto& key : keys) {
                INFO("[" << section << "] " << key << ": the loader accepts it; give it an entry '*" << key
                         << "* = ...' under '## [" << section << "]' in huddle.conf.5.scd");
                CHECK(has_term(ts, key));
            }
            for (const auto& t : ts) {
                INFO("huddle.conf.5.scd documents [" << section << "] " << t << ", which the loader does not accept there");
                CHECK(std::any_of(keys.begin(), keys.end(), [&](const std::string& k) { return normalize_key(k) == normalize_key(t); }));
            }
        }
    }
    // And no section the loader does not know.
    for (const auto& l : lines) {
        if (l.rfind("## [", 0) != 0 || l.back() != ']') continue;
        std::string name = l.substr(4, l.size() - 5);
        INFO("huddle.conf.5.scd has a section " << l << " that the loader does not accept");
        CHECK(std::any_of(schema.begin(), schema.end(), [&](const auto& s) { return s.first == name; }));
    }
}

TEST_CASE("man: huddle-fetch(8) lists every exit code of huddle-fetch") {
    auto p = part(page_lines("huddle-fetch.8.scd"), "# EXIT STATUS");
    {
        INFO("huddle-fetch.8.scd needs '# EXIT STATUS'");
        REQUIRE(p);
    }
    const auto ts = terms(*p);
    // exit_meaning() knows every code huddle-fetch returns, and only those.
    int codes = 0;
    for (; sys::exit_meaning(codes) != "exit status " + std::to_string(codes); ++codes) {
        INFO("exit code " << codes << " (" << sys::exit_meaning(codes) << ") needs an entry '*" << codes << "*' under # EXIT STATUS");
        CHECK(std::find(ts.begin(), ts.end(), std::to_string(codes)) != ts.end());
    }
    CHECK(codes == sys::kFetchRefused + 1);
    for (const auto& t : ts) {
        INFO("huddle-fetch.8.scd lists exit code " << t << ", which huddle-fetch does not have");
        bool number = !t.empty() && t.size() < 4 && std::all_of(t.begin(), t.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
        CHECK(number);
        if (number) CHECK(std::stoi(t) < codes);
    }
}

TEST_CASE("man: huddle-gen(8) lists the journal MESSAGE_IDs") {
    auto p = part(page_lines("huddle-gen.8.scd"), "# LOGGING");
    {
        INFO("huddle-gen.8.scd needs '# LOGGING'");
        REQUIRE(p);
    }
    const auto ts = terms(*p);
    const std::vector<std::string> ids = {sys::msgid::kUnitCreated, sys::msgid::kUnitReplaced, sys::msgid::kUnitRemoved,
                                          sys::msgid::kConfigRejected, sys::msgid::kUnitFailed, sys::msgid::kPollsSlowed};
    for (const auto& id : ids) {
        INFO("MESSAGE_ID " << id << " needs an entry '*" << id << "*' under # LOGGING");
        CHECK(std::find(ts.begin(), ts.end(), id) != ts.end());
    }
    for (const auto& t : ts) {
        INFO("huddle-gen.8.scd lists MESSAGE_ID " << t << ", which huddle-gen does not log");
        CHECK(std::find(ids.begin(), ids.end(), t) != ids.end());
    }
}
