// huddle-fetch APP: one poll-and-deploy cycle, run by huddle-fetch@APP.timer.
#include <CLI/CLI.hpp>

#include "cli_common.hpp"
#include "config.h"
#include "sys/apps.hpp"
#include <csignal>
#include <cstdio>
#include <string_view>

#include "core/decide.hpp"
#include "sys/deploy.hpp"
#include "sys/log.hpp"
#include "sys/process.hpp"

using namespace huddle;

namespace {

// --dry-run: the poll's verdict on stdout; exit 0, or what the poll would
// exit with when it cannot decide (3) or refuses (6, or 3 with no ref).
int print_dry_run(const AppConfig& c) {
    auto v = sys::dry_run(c);
    if (!v) {
        spdlog::error("{}", v.error().message);
        return v.error().code == -EPERM ? sys::kFetchConfig : sys::kFetchTemporary;
    }
    std::printf("%s: %s\n", c.name.c_str(), describe(*v).c_str());
    if (v->kind != VerdictKind::refuse) return sys::kFetchOk;
    return v->refusal == Refusal::foreign_path ? sys::kFetchRefused : sys::kFetchTemporary;
}

}  // namespace

int main(int argc, char** argv) {
    // The app unit's launcher (plan.cpp): nothing else runs before the exec.
    if (argc == 2 && std::string_view(argv[1]) == "--exec-environment") return sys::exec_from_environment();
    // A pipe whose reader is gone (a step, the fetch process) is an error
    // to report, not a reason to die mid-deploy.
    std::signal(SIGPIPE, SIG_IGN);
    CLI::App app{"huddle-fetch: ask APP's git remote whether its branch or tag moved; if so fetch, build, verify, switch to the new\n"
                 "release, restart the app and check it is healthy, rolling back if not. One cycle, then exit.",
                 "huddle-fetch"};
    app.set_version_flag("--version", HUDDLE_VERSION);
    std::vector<std::string> override_dirs;
    std::string name, log_target = "auto";
    bool watchdog = false, dry_run = false;
    app.add_option("-c,--config-dir", override_dirs, "Read configs from DIR instead of the search path (repeatable)")->type_name("DIR");
    cli::add_log_option(app, log_target);
    app.add_flag("--watchdog", watchdog, "Run APP's [watchdog] check once instead (restart the app if it fails)");
    app.add_flag("--dry-run", dry_run, "Ask the remote and print what a poll would do now (would deploy, up to date, would skip, refused); "
                                       "change nothing");
    app.add_option("APP", name, "The app to poll")->required();
    app.footer("Exit status: 0 up to date or deployed; 1 config invalid; 2 usage; 3 temporary failure (network, lock, systemd),\n"
               "retried at the next poll; 4 release rejected (its tree, build, verify, signature or rewind); 5 new release unhealthy, rolled back;\n"
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
        if (dry_run) return print_dry_run(*a.result.config);
        return watchdog ? sys::run_watchdog(*a.result.config) : sys::run_cycle(*a.result.config);
    }
    spdlog::error("no config for app '{}' in the search path", name);
    return sys::kFetchConfig;
}
