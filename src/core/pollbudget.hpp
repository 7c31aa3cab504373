// The poll budget. Every poll is a unit start with a sandbox, which costs
// about a tenth of a second of CPU (bench/README.md), so a machine runs only
// so many a second. Past that, polls pile up in PID 1 until it stops
// answering, and no push is deployed at all. huddle-gen therefore caps the
// polls a machine asks for: when the configs ask for more than the budget,
// the apps that poll most often are slowed, all to the same floor period,
// until the total fits. Pure: the budget comes from the caller.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"

namespace huddle {

// The default budget, per CPU: with ~0.1 s of CPU a poll, at most ~40% of
// the machine goes to polls.
constexpr double kPollsPerCpu = 4;

struct PollBudget {
    double budget = 0;  // polls a second allowed; 0: unlimited
    double asked = 0;   // polls a second the configs ask for
    double planned = 0; // after slowing
    usec_t floor = 0;   // no app polls more often than this on average; 0: none slowed
    size_t slowed = 0;  // apps whose timing was slowed
};

// The mean time between an app's polls: the middle of [minimum, maximum].
usec_t mean_poll_period(const TimingConfig& t);

// The smallest floor, a power of two seconds, under which the apps' polls fit
// the budget. Powers of two: adding or removing a few apps rarely moves the
// floor, so a config change does not re-time every timer of the fleet.
PollBudget fit_poll_budget(const std::vector<TimingConfig>& timings, double budget);

// An app's timing under a floor: unchanged if its mean period is at least the
// floor; else minimum and maximum scaled by floor/mean (the spread keeps its
// proportion), in whole seconds.
TimingConfig slowed_timing(const TimingConfig& t, usec_t floor);

// A rate as --poll-budget and HUDDLE_POLL_BUDGET take it: polls a second, 0
// or more. "" if `text` is one (stored in `out`), else what is wrong.
std::string parse_poll_rate(const std::string& text, double& out);

// The value of KEY in a file of KEY=VALUE lines, read as systemd reads an
// EnvironmentFile= (blank lines and # comments skipped, one pair of quotes
// around the value removed); the last assignment wins. Line 0: not set.
struct SettingValue {
    std::string value;
    int line = 0;
};
SettingValue setting_value(std::string_view text, std::string_view key);

// One line for the log when the budget slowed apps (b.floor set): what was
// asked, the budget, what is done about it.
std::string describe_poll_budget(const PollBudget& b, size_t apps);

}  // namespace huddle
