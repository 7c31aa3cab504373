#include "size.hpp"

#include <fmt/format.h>

namespace huddle {

namespace {
constexpr std::string_view kSuffixes = "KMGT";
}

SizeResult parse_size(std::string_view text) {
    if (text == "infinity") return {kSizeInfinity, ""};
    size_t i = 0;
    uint64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        if (n > (UINT64_MAX - 9) / 10) return {std::nullopt, "'" + std::string(text) + "' is too large"};
        n = n * 10 + static_cast<uint64_t>(text[i++] - '0');
    }
    if (i == 0) return {std::nullopt, "'" + std::string(text) + "' is not a size; write bytes with an optional K, M, G or T (\"512M\", \"2G\"), or infinity"};
    std::string_view rest = text.substr(i);
    if (rest == "B") rest = {};
    if (rest.empty()) return {n, ""};
    size_t power = kSuffixes.find(rest[0]);
    if (power == std::string_view::npos || (rest.size() > 1 && rest.substr(1) != "B"))
        return {std::nullopt, "'" + std::string(text) + "' has an unknown unit '" + std::string(rest) + "'; the units are K, M, G and T (powers of 1024)"};
    for (size_t k = 0; k <= power; ++k) {
        if (n > UINT64_MAX / 1024) return {std::nullopt, "'" + std::string(text) + "' is too large"};
        n *= 1024;
    }
    return {n, ""};
}

std::string format_size(uint64_t bytes) {
    if (bytes == kSizeInfinity) return "infinity";
    size_t power = 0;
    while (bytes != 0 && bytes % 1024 == 0 && power < kSuffixes.size()) {
        bytes /= 1024;
        ++power;
    }
    return power ? fmt::format("{}{}", bytes, kSuffixes[power - 1]) : fmt::format("{}", bytes);
}

}  // namespace huddle
