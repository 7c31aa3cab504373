// Sizes as systemd writes them (MemoryMax=, SystemMaxUse=): a number of
// bytes with an optional suffix K, M, G or T, each 1024 times the one
// before; "infinity" for no limit.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace huddle {

inline constexpr uint64_t kSizeInfinity = UINT64_MAX;

struct SizeResult {
    std::optional<uint64_t> bytes;  // kSizeInfinity for "infinity"
    std::string error;              // set when bytes is empty
};

SizeResult parse_size(std::string_view text);

// "512M", "1.5G" is never written: the largest suffix that divides exactly,
// so that it reads back as the same number. "infinity" for kSizeInfinity.
std::string format_size(uint64_t bytes);

}  // namespace huddle
