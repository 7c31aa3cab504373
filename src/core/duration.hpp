// Durations as systemd writes them: a bare number is seconds; a string is a
// time span ("90s", "5min", "1h 30min", "250ms").
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace huddle {

using usec_t = uint64_t;
constexpr usec_t kUsecPerSec = 1000000ULL;

struct TimespanResult {
    std::optional<usec_t> usec;
    std::string error;  // set when usec is empty
};

TimespanResult parse_timespan(std::string_view text);
TimespanResult timespan_from_seconds(double seconds);

// "1min 30s"; "0" for zero. Round-trips through parse_timespan and systemd.
std::string format_timespan(usec_t usec);

}  // namespace huddle
