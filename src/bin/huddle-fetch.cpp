// huddle-fetch APP: one poll-and-deploy cycle, run by huddle-fetch@APP.timer.
#include <CLI/CLI.hpp>

#include "cli_common.hpp"
#include "config.h"
#include "sys/apps.hpp"
#include "sys/deploy.hpp"
#include "sys/log.hpp"

using namespace huddle;

int main(int argc, char** argv) {
    CLI::App app{"huddle-fetch: ask APP's git remote whether its branch or tag moved; if so fetch, build, verify, switch to the new\n"
                 "release, restart the app and check it is healthy, rolling back if not. One cycle, then exit.",
                 "huddle-fetch"};
    app.set_version_flag("--version", HUDDLE_VERSION);
    std::vector<std::string> override_dirs;
    std::string name, log_target = "auto";
    bool watchdog = false;
    app.add_option("-c,--config-dir", override_dirs, "Read configs from DIR instead of the search path (repeatable)")->type_name("DIR");
    cli::add_log_option(app, log_target);
    app.add_flag("--watchdog", watchdog, "Run APP's [watchdog] check once instead (restart the app if it fails)");
    app.add_option("APP", name, "The app to poll")->required();
    app.footer("Exit status: 0 up to date or deployed; 1 config invalid; 2 usage; 3 temporary failure (network, lock, systemd),\n"
               "retried at the next poll; 4 release rejected by build or verify; 5 new release unhealthy, rolled back;\n"
               "6 local path exists and is not huddle's.");
    if (auto rc = cli::parse(app, argc, argv)) return *rc;
    sys::log_setup("huddle-fetch", cli::log_target(log_target));
    sys::LoadedApps loaded = sys::load_apps(sys::search_path(override_dirs));
    for (const auto& a : loaded.apps) {
        if (a.source.app != name) continue;
        sys::ScopedLogFields f({{"HUDDLE_APP", name}, {"OBJECT_SYSTEMD_UNIT", app_unit_name(name)}});
        for (const auto& d : a.result.diags.sorted())
            if (d.severity == Severity::error) spdlog::error("{}", format_diagnostic(d));
        if (!a.result.config) {
            spdlog::error("{}: config rejected; the running release is untouched", a.source.path);
            return sys::kFetchConfig;
        }
        return watchdog ? sys::run_watchdog(*a.result.config) : sys::run_cycle(*a.result.config);
    }
    spdlog::error("no config for app '{}' in the search path", name);
    return sys::kFetchConfig;
}
