#include "keys.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace huddle {

std::string normalize_key(std::string_view key) {
    std::string out;
    out.reserve(key.size());
    for (char c : key) {
        if (c == ' ' || c == '_' || c == '-' || c == '\t') {
            // Runs of separators count once, and none at either end.
            if (!out.empty() && out.back() != ' ') out.push_back(' ');
        } else {
            out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string did_you_mean(std::string_view key, const std::vector<std::string>& candidates) {
    std::string k = normalize_key(key);
    std::string best;
    size_t best_d = SIZE_MAX;
    for (const auto& c : candidates) {
        size_t d = edit_distance(k, normalize_key(c));
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    // A third of the length, at least 2: catches "remote pth" and "minumum",
    // not unrelated words.
    size_t limit = std::max<size_t>(2, k.size() / 3);
    return best_d <= limit ? best : std::string();
}

}  // namespace huddle
