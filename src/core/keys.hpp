// Key spelling rules: case-insensitive, and space, '_' and '-' are one
// character, so Huddle's "remote path" and TOML's remote_path are one key.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace huddle {

std::string normalize_key(std::string_view key);

// The closest candidate by edit distance on normalized spelling, or "" if
// nothing is close enough to be a plausible typo.
std::string did_you_mean(std::string_view key, const std::vector<std::string>& candidates);

size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace huddle
