#include "duration.hpp"

#include <cctype>
#include <cmath>

namespace huddle {
namespace {

struct Unit {
    const char* suffix;
    usec_t usec;
};

// systemd's suffixes (time-util.c), longest first where one is a prefix of another.
constexpr Unit kUnits[] = {
    {"seconds", kUsecPerSec}, {"second", kUsecPerSec}, {"sec", kUsecPerSec}, {"s", kUsecPerSec},
    {"minutes", 60 * kUsecPerSec}, {"minute", 60 * kUsecPerSec}, {"min", 60 * kUsecPerSec},
    {"months", 2629800 * kUsecPerSec}, {"month", 2629800 * kUsecPerSec},
    {"msec", 1000}, {"ms", 1000}, {"m", 60 * kUsecPerSec},
    {"hours", 3600 * kUsecPerSec}, {"hour", 3600 * kUsecPerSec}, {"hr", 3600 * kUsecPerSec}, {"h", 3600 * kUsecPerSec},
    {"days", 86400 * kUsecPerSec}, {"day", 86400 * kUsecPerSec}, {"d", 86400 * kUsecPerSec},
    {"weeks", 604800 * kUsecPerSec}, {"week", 604800 * kUsecPerSec}, {"w", 604800 * kUsecPerSec},
    {"years", 31557600 * kUsecPerSec}, {"year", 31557600 * kUsecPerSec}, {"y", 31557600 * kUsecPerSec},
    {"M", 2629800 * kUsecPerSec},
    {"usec", 1}, {"us", 1}, {"\xc2\xb5s", 1},
};

// Anything longer than a year between polls or as a timeout is a typo.
constexpr usec_t kMax = 31557600ULL * kUsecPerSec * 10;

}  // namespace

TimespanResult timespan_from_seconds(double seconds) {
    if (std::isnan(seconds)) return {std::nullopt, "is not a number"};
    if (seconds < 0) return {std::nullopt, "must not be negative"};
    if (seconds * kUsecPerSec > static_cast<double>(kMax)) return {std::nullopt, "is too large (at most 10 years)"};
    return {static_cast<usec_t>(std::llround(seconds * kUsecPerSec)), ""};
}

TimespanResult parse_timespan(std::string_view s) {
    size_t i = 0;
    auto skip_ws = [&] {
        while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    };
    skip_ws();
    if (i == s.size()) return {std::nullopt, "is empty; write a number of seconds or a span such as \"90s\" or \"5min\""};
    usec_t total = 0;
    while (i < s.size()) {
        if (s[i] == '-') return {std::nullopt, "must not be negative"};
        size_t start = i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
        std::string_view whole = s.substr(start, i - start);
        std::string_view frac;
        if (i < s.size() && s[i] == '.') {
            size_t f = ++i;
            while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
            frac = s.substr(f, i - f);
        }
        // "5." is not a span for systemd either.
        if ((whole.empty() && frac.empty()) || (i > start && s[i - 1] == '.'))
            return {std::nullopt, "\"" + std::string(s) + "\" is not a time span; write e.g. 30, \"90s\", \"5min\" or \"1h 30min\""};
        skip_ws();
        usec_t mult = kUsecPerSec;  // no suffix: seconds
        if (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i]))) {
            bool found = false;
            for (const auto& u : kUnits) {
                std::string_view suf(u.suffix);
                if (s.substr(i, suf.size()) == suf) {
                    size_t after = i + suf.size();
                    if (after < s.size() && std::isalpha(static_cast<unsigned char>(s[after]))) continue;
                    mult = u.usec;
                    i = after;
                    found = true;
                    break;
                }
            }
            if (!found)
                return {std::nullopt, "\"" + std::string(s) + "\" has an unknown unit; use us, ms, s, min, h, d, w"};
        }
        if (whole.size() > 12) return {std::nullopt, "is too large (at most 10 years)"};
        usec_t w = whole.empty() ? 0 : std::stoull(std::string(whole));
        if (w > kMax / mult) return {std::nullopt, "is too large (at most 10 years)"};
        usec_t part = w * mult;
        usec_t scale = mult;
        for (char c : frac) {
            scale /= 10;
            part += static_cast<usec_t>(c - '0') * scale;
        }
        total += part;
        if (total > kMax) return {std::nullopt, "is too large (at most 10 years)"};
        skip_ws();
    }
    return {total, ""};
}

std::string format_timespan(usec_t usec) {
    if (usec == 0) return "0";
    struct Part {
        const char* suffix;
        usec_t usec;
    };
    static constexpr Part parts[] = {{"d", 86400 * kUsecPerSec}, {"h", 3600 * kUsecPerSec}, {"min", 60 * kUsecPerSec},
                                     {"s", kUsecPerSec}, {"ms", 1000}, {"us", 1}};
    std::string out;
    for (const auto& p : parts) {
        if (usec >= p.usec) {
            if (!out.empty()) out += ' ';
            out += std::to_string(usec / p.usec) + p.suffix;
            usec %= p.usec;
        }
    }
    return out;
}

}  // namespace huddle
