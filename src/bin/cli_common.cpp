#include "cli_common.hpp"

#include <CLI/CLI.hpp>
#include <sched.h>

#include <cstdlib>

#include "config.h"
#include "sys/fs.hpp"
#include "sys/systemd.hpp"

#include <fmt/format.h>

namespace huddle::cli {

void print_diagnostics(const Diagnostics& d, std::FILE* out) {
    for (const auto& item : d.sorted()) std::fprintf(out, "%s\n", format_diagnostic(item).c_str());
}

PlanContext plan_context(const std::vector<std::string>& override_dirs) {
    PlanContext ctx;
    ctx.fetch_binary = HUDDLE_BINDIR "/huddle-fetch";
    ctx.config_dirs = override_dirs;
    ctx.machine_id = sys::machine_id();
    return ctx;
}

double poll_budget(double value, std::string& err) {
    if (value >= 0) return value;
    cpu_set_t set;
    CPU_ZERO(&set);
    int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    double fallback = kPollsPerCpu * std::max(cpus, 1);
    auto r = sys::read_file(kDefaultsFile);
    if (!r) return fallback;  // not there: the default, as for any /etc/default file
    SettingValue s = setting_value(*r, "HUDDLE_POLL_BUDGET");
    if (s.line == 0) return fallback;
    double d;
    std::string why = parse_poll_rate(s.value, d);
    if (why.empty()) return d;
    err = fmt::format("{}:{}: error: HUDDLE_POLL_BUDGET: {}; using the default of {:g} ({:g} per CPU) until it is fixed", kDefaultsFile, s.line, why,
                      fallback, kPollsPerCpu);
    return fallback;
}

PollBudget apply_poll_budget(const sys::LoadedApps& loaded, double budget, PlanContext& ctx) {
    std::vector<TimingConfig> timings;
    for (const auto& a : loaded.apps)
        if (a.result.config) timings.push_back(a.result.config->timing);
    PollBudget b = fit_poll_budget(timings, budget);
    ctx.poll_floor = b.floor;
    return b;
}

std::string poll_budget_notice(const PollBudget& b, size_t apps) {
    return describe_poll_budget(b, apps) + " (HUDDLE_POLL_BUDGET in " + kDefaultsFile + ", or --poll-budget, sets the budget)";
}

}  // namespace huddle::cli

namespace huddle::cli {

void add_log_option(CLI::App& app, std::string& value) {
    app.add_option("--log", value, "Where logs go: auto (the journal unless on a terminal), console, journal")
        ->check(CLI::IsMember({"auto", "console", "journal"}));
}

void add_poll_budget_option(CLI::App& app, double& value) {
    app.add_option("--poll-budget", value,
                   "Polls a second this machine's apps may ask for in all; the apps that poll most often are slowed to fit (0: no limit; "
                   "default: HUDDLE_POLL_BUDGET in /etc/default/huddle, else 4 per CPU)")
        ->type_name("RATE")
        ->envname("HUDDLE_POLL_BUDGET")
        ->check(CLI::Validator(
            [](std::string& v) {
                double d;
                return parse_poll_rate(v, d);
            },
            ""));
}

sys::LogTarget log_target(const std::string& value) {
    return value == "console" ? sys::LogTarget::console : value == "journal" ? sys::LogTarget::journal : sys::LogTarget::automatic;
}

std::optional<int> parse(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return kUsage;
    }
    return std::nullopt;
}

}  // namespace huddle::cli
