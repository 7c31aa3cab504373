#include "cli_common.hpp"

#include "config.h"
#include "sys/fs.hpp"

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

}  // namespace huddle::cli

namespace huddle::cli {

void add_log_option(CLI::App& app, std::string& value) {
    app.add_option("--log", value, "Where logs go: auto (the journal unless on a terminal), console, journal")
        ->check(CLI::IsMember({"auto", "console", "journal"}));
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
