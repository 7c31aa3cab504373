// What the binaries share: printing diagnostics, the plan context, exit codes.
#pragma once
#include <CLI/CLI.hpp>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "core/diag.hpp"
#include "core/plan.hpp"
#include "sys/log.hpp"

namespace huddle::cli {

// Exit codes shared by huddlectl and huddle-gen (documented in their man pages).
enum Exit : int { kOk = 0, kConfigError = 1, kUsage = 2, kSystemError = 3 };

void print_diagnostics(const Diagnostics& d, std::FILE* out);
PlanContext plan_context(const std::vector<std::string>& override_dirs);

// Parse the command line; an exit code if the program should exit now
// (--help, --version, or a usage error).
std::optional<int> parse(CLI::App& app, int argc, char** argv);

// The --log option of the daemons' binaries: auto, console or journal.
void add_log_option(CLI::App& app, std::string& value);
sys::LogTarget log_target(const std::string& value);

}  // namespace huddle::cli
