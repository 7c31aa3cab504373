// What the binaries share: printing diagnostics, the plan context, exit codes,
// the options more than one of them takes. CLI11 stays out of this header
// (it is the most expensive one to compile); the functions that take a
// CLI::App are defined in cli_common.cpp.
#pragma once
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "core/diag.hpp"
#include "core/plan.hpp"
#include "core/pollbudget.hpp"
#include "sys/apps.hpp"
#include "sys/log.hpp"

namespace CLI {
class App;
}

namespace huddle::cli {

// Exit codes shared by huddlectl and huddle-gen (documented in their man pages).
enum Exit : int { kOk = 0, kConfigError = 1, kUsage = 2, kSystemError = 3 };

void print_diagnostics(const Diagnostics& d, std::FILE* out);
PlanContext plan_context(const std::vector<std::string>& override_dirs);

// The poll budget, first found of: --poll-budget RATE, the environment's
// HUDDLE_POLL_BUDGET (both read by CLI11 into `value`, negative if neither),
// HUDDLE_POLL_BUDGET= in /etc/default/huddle, kPollsPerCpu per CPU this
// process may run on. 0 lifts the limit. A bad value in the file: the
// default, and `err` says what to fix.
constexpr const char* kDefaultsFile = "/etc/default/huddle";
void add_poll_budget_option(CLI::App& app, double& value);
double poll_budget(double value, std::string& err);
// Fits the loaded apps' polls into the budget and sets ctx.poll_floor.
PollBudget apply_poll_budget(const sys::LoadedApps& loaded, double budget, PlanContext& ctx);
// What huddle-gen logs and huddlectl plan prints when the budget slowed apps.
std::string poll_budget_notice(const PollBudget& b, size_t apps);

// Parse the command line; an exit code if the program should exit now
// (--help, --version, or a usage error).
std::optional<int> parse(CLI::App& app, int argc, char** argv);

// The --log option of the daemons' binaries: auto, console or journal.
void add_log_option(CLI::App& app, std::string& value);
sys::LogTarget log_target(const std::string& value);

}  // namespace huddle::cli
