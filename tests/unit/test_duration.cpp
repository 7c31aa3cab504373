#include "catch.hpp"

#include <cmath>

#include "core/duration.hpp"

using namespace huddle;

TEST_CASE("duration: systemd time spans") {
    struct Row {
        const char* in;
        usec_t usec;
    };
    const Row rows[] = {
        {"90", 90 * kUsecPerSec}, {"90s", 90 * kUsecPerSec}, {"5min", 300 * kUsecPerSec}, {"1h 30min", 5400 * kUsecPerSec},
        {"1h30min", 5400 * kUsecPerSec}, {"250ms", 250000}, {"2.5s", 2500000}, {"1.5", 1500000}, {"10us", 10}, {"1d", 86400 * kUsecPerSec},
        {"2 weeks", 14 * 86400 * kUsecPerSec}, {"3 seconds", 3 * kUsecPerSec}, {" 7s ", 7 * kUsecPerSec}, {"0", 0}, {"1m", 60 * kUsecPerSec},
        {"1min 1s 1ms", 61001000}, {".5s", 500000},
    };
    for (const auto& r : rows) {
        INFO(r.in);
        auto res = parse_timespan(r.in);
        REQUIRE(res.usec.has_value());
        CHECK(*res.usec == r.usec);
    }
}

TEST_CASE("duration: malformed spans are rejected with a reason") {
    const char* bad[] = {"", "   ", "abc", "5 parsecs", "-5s", "5s-", "1.2.3s", "99999999999999999999s", "11y", "s", "5.", "5.s", "1e3", "\xe2\x88\x9e"};
    for (const char* b : bad) {
        INFO(b);
        auto res = parse_timespan(b);
        CHECK_FALSE(res.usec.has_value());
        CHECK_FALSE(res.error.empty());
    }
}

TEST_CASE("duration: numbers are seconds") {
    CHECK(*timespan_from_seconds(10).usec == 10 * kUsecPerSec);
    CHECK(*timespan_from_seconds(0.25).usec == 250000);
    CHECK_FALSE(timespan_from_seconds(-1).usec);
    CHECK_FALSE(timespan_from_seconds(1e12).usec);
    CHECK(timespan_from_seconds(std::nan("")).error == "is not a number");
    CHECK(*parse_timespan(".5s").usec == 500000);
}

TEST_CASE("duration: formatting round-trips") {
    for (usec_t u : {usec_t(0), usec_t(1), usec_t(1500), kUsecPerSec, 90 * kUsecPerSec, 3661 * kUsecPerSec + 5000, 86400 * kUsecPerSec * 3}) {
        INFO(u);
        CHECK(*parse_timespan(format_timespan(u)).usec == u);
    }
    CHECK(format_timespan(90 * kUsecPerSec) == "1min 30s");
    CHECK(format_timespan(0) == "0");
}
