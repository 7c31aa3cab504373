// huddlectl: the operator's command. Thin: parse arguments, call the core,
// print, map to an exit code.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <cstdio>
#include <iostream>

#include "cli_common.hpp"
#include "config.h"
#include "core/render.hpp"
#include "sys/apps.hpp"

using namespace huddle;

namespace {

bool is_dir(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Arguments name apps, files (anything with a '/') or directories.
sys::LoadedApps gather(const std::vector<std::string>& args, const std::vector<std::string>& dirs, bool apps_by_name, Diagnostics& missing) {
    if (args.empty()) return sys::load_apps(dirs);
    sys::LoadedApps out;
    std::optional<sys::LoadedApps> from_path;
    for (const auto& a : args) {
        if (is_dir(a)) {
            auto more = sys::load_apps({a});
            for (auto& x : more.apps) out.apps.push_back(std::move(x));
            out.diags.append(more.diags);
        } else if (a.find('/') != std::string::npos || !apps_by_name) {
            out.apps.push_back(sys::load_file(a));
        } else {
            if (!from_path) from_path = sys::load_apps(dirs);
            bool found = false;
            for (const auto& x : from_path->apps)
                if (x.source.app == a) {
                    out.apps.push_back(x);
                    found = true;
                }
            for (const auto& b : from_path->broken_apps)
                if (b == a) {
                    out.diags.append(from_path->diags);
                    found = true;
                }
            if (!found) {
                std::string path;
                for (const auto& d : dirs) path += (path.empty() ? "" : ", ") + d;
                missing.error({a, 0, 0}, "", "no config for this app in " + path + "; check the name, or give the file's path");
            }
        }
    }
    return out;
}

int cmd_validate(const std::vector<std::string>& args, const std::vector<std::string>& dirs) {
    Diagnostics missing;
    auto loaded = gather(args, dirs, false, missing);
    cli::print_diagnostics(loaded.diags, stdout);
    size_t ok = 0, bad = 0, errors = loaded.diags.count(Severity::error), warnings = loaded.diags.count(Severity::warning);
    for (const auto& a : loaded.apps) {
        cli::print_diagnostics(a.result.diags, stdout);
        errors += a.result.diags.count(Severity::error);
        warnings += a.result.diags.count(Severity::warning);
        (a.result.config ? ok : bad)++;
    }
    bad += loaded.broken_apps.size();
    std::printf("%zu config%s checked: %zu valid, %zu invalid (%zu error%s, %zu warning%s)\n", ok + bad, ok + bad == 1 ? "" : "s", ok, bad, errors,
                errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
    return errors ? cli::kConfigError : cli::kOk;
}

int cmd_plan(const std::vector<std::string>& args, const std::vector<std::string>& dirs, const std::vector<std::string>& override_dirs, bool json) {
    Diagnostics missing;
    auto loaded = gather(args, dirs, true, missing);
    PlanContext ctx = cli::plan_context(override_dirs);
    nlohmann::json japps = nlohmann::json::array();
    nlohmann::json jdiags = nlohmann::json::array();
    bool failed = missing.has_errors() || loaded.diags.has_errors();
    std::string text;
    auto note = [&](const Diagnostics& d) {
        for (const auto& item : d.sorted()) {
            if (json)
                jdiags.push_back({{"severity", severity_name(item.severity)}, {"file", item.loc.file}, {"line", item.loc.line}, {"column", item.loc.col},
                                  {"key", item.key}, {"message", item.message}, {"text", format_diagnostic(item)}});
            else
                std::fprintf(stderr, "%s\n", format_diagnostic(item).c_str());
        }
    };
    note(missing);
    note(loaded.diags);
    for (const auto& a : loaded.apps) {
        note(a.result.diags);
        if (!a.result.config) {
            failed = true;
            continue;
        }
        AppPlan p = plan_app(*a.result.config, ctx);
        if (json) {
            japps.push_back(plan_to_json(p));
        } else {
            if (!text.empty()) text += "\n";
            text += render_app(p);
        }
    }
    if (json)
        std::cout << nlohmann::json{{"apps", japps}, {"diagnostics", jdiags}}.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    else
        std::cout << text;
    return failed ? cli::kConfigError : cli::kOk;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"huddlectl: validate and inspect huddle's app configs.\n\n"
                 "Configs live in /etc/huddle/, /run/huddle/ and /usr/lib/huddle/ (highest precedence first),\n"
                 "one file per app: APP.json, APP.ini or APP.toml.",
                 "huddlectl"};
    app.set_version_flag("--version", HUDDLE_VERSION);
    app.require_subcommand(1);
    std::vector<std::string> override_dirs;
    app.add_option("-c,--config-dir", override_dirs, "Read configs from DIR instead of the search path (repeatable, highest precedence first)")
        ->type_name("DIR");

    std::vector<std::string> vargs;
    auto* validate = app.add_subcommand("validate", "Check config files and report every problem as FILE:LINE:COL: error: ...");
    validate->add_option("FILE", vargs, "Config files or directories (default: the search path)");
    validate->footer("Examples:\n"
                     "  huddlectl validate                     check every config in the search path\n"
                     "  huddlectl validate /etc/huddle/web.toml check one file before installing it\n"
                     "  huddlectl -c ./configs validate        check a directory of configs\n\n"
                     "Exit status: 0 if no errors (warnings allowed), 1 if any config has errors.");

    std::vector<std::string> pargs;
    bool json = false;
    auto* plan = app.add_subcommand("plan", "Show the systemd units huddle-gen would make, as unit-file text (needs no running systemd)");
    plan->add_option("APP", pargs, "App names, or paths to config files (default: every app in the search path)");
    plan->add_flag("--json", json, "Print the plan as JSON: each unit's D-Bus properties with their signatures, and the diagnostics");
    plan->footer("Examples:\n"
                 "  huddlectl plan                       every app's units\n"
                 "  huddlectl plan web                   the units of /etc/huddle/web.{json,ini,toml}\n"
                 "  huddlectl plan ./web.toml --json     a file not yet installed, for tooling\n\n"
                 "Exit status: 0 if every app planned, 1 if any config has errors (the others are still printed).");

    if (auto rc = cli::parse(app, argc, argv)) return *rc;
    std::vector<std::string> dirs = sys::search_path(override_dirs);
    if (*validate) return cmd_validate(vargs, dirs);
    if (*plan) return cmd_plan(pargs, dirs, override_dirs, json);
    return cli::kUsage;
}
