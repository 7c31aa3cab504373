#include "catch.hpp"

#include <set>

#include "core/plan.hpp"
#include "core/pollbudget.hpp"

using namespace huddle;

namespace {
constexpr usec_t S = kUsecPerSec;

TimingConfig timing(usec_t min, std::optional<usec_t> max = std::nullopt) {
    TimingConfig t;
    t.minimum = min;
    t.maximum = max;
    return t;
}

std::vector<TimingConfig> fleet(size_t n, TimingConfig t) { return std::vector<TimingConfig>(n, t); }

const UnitPlan* timer_of(const AppPlan& p) {
    for (const auto& u : p.units)
        if (u.role == UnitRole::timer) return &u;
    return nullptr;
}
}  // namespace

TEST_CASE("poll budget: the mean period is the middle of [minimum, maximum]") {
    CHECK(mean_poll_period(timing(60 * S)) == 60 * S);
    CHECK(mean_poll_period(timing(1 * S, 2 * S)) == 1500000);
    CHECK(mean_poll_period(timing(10 * S, 10 * S)) == 10 * S);
}

TEST_CASE("poll budget: within the budget, or without one, nothing is slowed") {
    auto apps = fleet(100, timing(60 * S));  // 1.67 polls a second
    for (double budget : {0.0, 2.0, 1000.0}) {
        PollBudget b = fit_poll_budget(apps, budget);
        CHECK(b.floor == 0);
        CHECK(b.slowed == 0);
        CHECK(b.asked == Approx(100.0 / 60));
        CHECK(b.planned == b.asked);
    }
    CHECK(fit_poll_budget({}, 8).floor == 0);
}

TEST_CASE("poll budget: 1,000 apps at 1-2 s on a budget of 8 poll every 128 s on average") {
    PollBudget b = fit_poll_budget(fleet(1000, timing(1 * S, 2 * S)), 8);
    CHECK(b.asked == Approx(1000 / 1.5));
    CHECK(b.floor == 128 * S);  // 1000/64 = 15.6 > 8 >= 1000/128 = 7.8
    CHECK(b.planned == Approx(1000.0 / 128));
    CHECK(b.planned <= 8);
    CHECK(b.slowed == 1000);
}

TEST_CASE("poll budget: the floor is the smallest power of two seconds that fits, and slows only the apps under it") {
    // 10 apps at 1 s and 10 at 1 h: 10 + 0.003 polls a second.
    auto apps = fleet(10, timing(1 * S));
    auto slow = fleet(10, timing(3600 * S));
    apps.insert(apps.end(), slow.begin(), slow.end());
    PollBudget b = fit_poll_budget(apps, 1);
    // 10/8 + 10/3600 = 1.25 > 1; 10/16 + 10/3600 = 0.63 <= 1.
    CHECK(b.floor == 16 * S);
    CHECK(b.slowed == 10);
    CHECK(b.planned <= 1);
    CHECK(fit_poll_budget(apps, 1.3).floor == 8 * S);
    // A few apps more or less do not move the floor.
    auto more = apps;
    more.push_back(timing(1 * S));
    CHECK(fit_poll_budget(more, 1).floor == b.floor);
}

TEST_CASE("poll budget: a budget smaller than the slowest apps still ends with a floor") {
    PollBudget b = fit_poll_budget(fleet(3, timing(3600 * S)), 0.0005);
    CHECK(b.floor == 8192 * S);  // 3/4096 = 0.00073 > 0.0005 >= 3/8192
    CHECK(b.slowed == 3);
    PollBudget tiny = fit_poll_budget(fleet(1000, timing(1 * S)), 1e-9);
    CHECK(tiny.floor == (usec_t{1} << 40) * S);  // the cap: far past any real timing
}

TEST_CASE("poll budget: slowed timing scales minimum and maximum to the floor, in whole seconds") {
    TimingConfig t = slowed_timing(timing(1 * S, 2 * S), 128 * S);
    CHECK(t.minimum == 85 * S);  // 1 s x 128/1.5
    REQUIRE(t.maximum);
    CHECK(*t.maximum == 171 * S);
    CHECK(mean_poll_period(t) == 128 * S);
    TimingConfig fixed = slowed_timing(timing(10 * S), 64 * S);
    CHECK(fixed.minimum == 64 * S);
    CHECK_FALSE(fixed.maximum);
    // At or over the floor, or with no floor: unchanged.
    CHECK(slowed_timing(timing(300 * S, 600 * S), 128 * S).minimum == 300 * S);
    CHECK(slowed_timing(timing(1 * S, 2 * S), 0).minimum == 1 * S);
    // A long minimum under an enormous floor does not overflow.
    TimingConfig huge = slowed_timing(timing(1000000 * S), (usec_t{1} << 40) * S);
    CHECK(huge.minimum == (usec_t{1} << 40) * S);
}

TEST_CASE("poll budget: the planner applies the floor to the timer and says so in its description") {
    auto r = load_config("web", "web.ini", Format::ini, "[repository]\nremote path = /r\n[timing]\nminimum = 1\nmaximum = 2\n");
    REQUIRE(r.config);
    PlanContext ctx;
    ctx.machine_id = "0123456789abcdef0123456789abcdef";
    auto mono_of = [](const UnitPlan& u) {
        for (const auto& p : u.properties)
            if (p.name == "TimersMonotonic") return std::get<std::vector<std::pair<std::string, uint64_t>>>(p.value);
        return std::vector<std::pair<std::string, uint64_t>>{};
    };
    auto text_of = [](const UnitPlan& u, const char* name) {
        for (const auto& p : u.properties)
            if (p.name == name) return std::get<std::string>(p.value);
        return std::string();
    };
    auto spread_of = [](const UnitPlan& u) {
        for (const auto& p : u.properties)
            if (p.name == "RandomizedDelayUSec") return std::get<uint64_t>(p.value);
        return uint64_t{0};
    };
    const AppPlan asked = plan_app(*r.config, ctx);
    ctx.poll_floor = 128 * S;
    const AppPlan slowed = plan_app(*r.config, ctx);
    const UnitPlan *a = timer_of(asked), *s = timer_of(slowed);
    REQUIRE(a);
    REQUIRE(s);
    CHECK(mono_of(*a).at(1).second == 1 * S);
    CHECK(spread_of(*a) == 1 * S);
    CHECK(mono_of(*s).at(1).second == 85 * S);
    CHECK(spread_of(*s) == 86 * S);
    CHECK(text_of(*s, "Description").find("(slowed by the poll budget from 1s-2s)") != std::string::npos);
    CHECK(text_of(*a, "Description").find("slowed") == std::string::npos);
    CHECK(unit_fingerprint(*a) != unit_fingerprint(*s));  // huddle-gen replaces the timer when the floor moves
    // The first polls of a slowed fleet spread over the floor, not a minute.
    std::set<usec_t> firsts;
    for (int i = 0; i < 200; ++i) firsts.insert(first_poll_delay("m" + std::to_string(i), "web", 85 * S, 128 * S));
    CHECK(*firsts.rbegin() > 61 * S);
    CHECK(*firsts.rbegin() <= 129 * S);
    CHECK(first_poll_delay("m", "web", 1 * S, 0) <= 2 * S);
    // Only the timer changes.
    for (size_t i = 0; i < asked.units.size(); ++i)
        if (asked.units[i].role != UnitRole::timer) CHECK(unit_fingerprint(asked.units[i]) == unit_fingerprint(slowed.units[i]));
}

TEST_CASE("poll budget: rates and the settings file") {
    double d = -1;
    CHECK(parse_poll_rate("20", d).empty());
    CHECK(d == 20);
    CHECK(parse_poll_rate("0.5", d).empty());
    CHECK(d == 0.5);
    CHECK(parse_poll_rate("0", d).empty());
    CHECK(d == 0);
    for (const char* bad : {"", "-1", "abc", "nan", "inf", "1e10", "5/s", " 5"}) {
        INFO(bad);
        CHECK(parse_poll_rate(bad, d).find("is not a rate") != std::string::npos);
    }
    CHECK(setting_value("", "HUDDLE_POLL_BUDGET").line == 0);
    CHECK(setting_value("# HUDDLE_POLL_BUDGET=3\nOTHER=1\n", "HUDDLE_POLL_BUDGET").line == 0);
    SettingValue v = setting_value("# comment\n\nHUDDLE_POLL_BUDGET=3\nexport HUDDLE_POLL_BUDGET = \"12.5\"\r\n", "HUDDLE_POLL_BUDGET");
    CHECK(v.value == "12.5");
    CHECK(v.line == 4);
    CHECK(setting_value("HUDDLE_POLL_BUDGET='7'", "HUDDLE_POLL_BUDGET").value == "7");
    CHECK(setting_value("HUDDLE_POLL_BUDGET_X=7", "HUDDLE_POLL_BUDGET").line == 0);
}
