// huddlectl: the operator's command. Thin: parse arguments, call the core,
// print, map to an exit code.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <cstdio>
#include <iostream>

#include "cli_common.hpp"
#include "show.hpp"
#include "config.h"
#include "core/render.hpp"
#include "core/state.hpp"
#include "sys/apps.hpp"
#include "sys/clock.hpp"
#include "core/decide.hpp"
#include "core/escape.hpp"
#include "sys/deploy.hpp"
#include "sys/fs.hpp"
#include "sys/log.hpp"
#include "sys/release.hpp"
#include "sys/systemd.hpp"

#include <ctime>

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

int cmd_plan(const std::vector<std::string>& args, const std::vector<std::string>& dirs, const std::vector<std::string>& override_dirs, double budget,
             bool json) {
    Diagnostics missing;
    auto loaded = gather(args, dirs, true, missing);
    PlanContext ctx = cli::plan_context(override_dirs);
    // The floor is the whole fleet's, as huddle-gen computes it, whichever
    // apps are shown.
    sys::LoadedApps fleet = args.empty() ? sys::LoadedApps{} : sys::load_apps(dirs);
    const sys::LoadedApps& all = args.empty() ? loaded : fleet;
    std::string budget_error;
    PollBudget polls = cli::apply_poll_budget(all, cli::poll_budget(budget, budget_error), ctx);
    if (!budget_error.empty()) std::fprintf(stderr, "%s\n", budget_error.c_str());
    if (polls.floor && !json) std::fprintf(stderr, "huddlectl: notice: %s\n", cli::poll_budget_notice(polls, all.apps.size()).c_str());
    nlohmann::json japps = nlohmann::json::array();
    nlohmann::json jdiags = nlohmann::json::array();
    bool failed = missing.has_errors() || loaded.diags.has_errors() || !budget_error.empty();
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
        std::cout << nlohmann::json{{"apps", japps},
                                    {"diagnostics", jdiags},
                                    {"polls",
                                     {{"budget", polls.budget}, {"asked", polls.asked}, {"planned", polls.planned},
                                      {"floor_usec", polls.floor}, {"slowed", polls.slowed}}}}
                         .dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    else
        std::cout << text;
    return failed ? cli::kConfigError : cli::kOk;
}

std::optional<AppConfig> config_of(const std::string& app, const std::vector<std::string>& dirs) {
    auto loaded = sys::load_apps(dirs);
    for (const auto& a : loaded.apps) {
        if (a.source.app != app) continue;
        cli::print_diagnostics(a.result.diags, stderr);
        if (!a.result.config) std::fprintf(stderr, "huddlectl: %s has errors; fix them first (huddlectl validate %s)\n", app.c_str(), a.source.path.c_str());
        return a.result.config;
    }
    std::fprintf(stderr, "huddlectl: no config for app '%s' in the search path; check the name (huddlectl validate lists them)\n", app.c_str());
    return std::nullopt;
}

std::string when(int64_t epoch) {
    if (epoch <= 0) return "-";
    char buf[64];
    time_t t = static_cast<time_t>(epoch);
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
    return buf;
}

// An app's state.json (root's, 0600): empty when there is none yet. One that
// cannot be read is said once on stderr, not shown as "nothing recorded".
AppState read_state(const std::string& app) {
    AppState st;
    std::string path = sys::app_dir(app) + "/state.json";
    auto r = sys::read_file(path);
    std::string err;
    if (r) {
        if (auto s = state_from_json(*r, err)) st = *s;
    } else if (r.error().code == -EACCES) {
        std::fprintf(stderr, "huddlectl: cannot read %s: it is root's alone; run huddlectl as root to see %s's deploys\n", path.c_str(), app.c_str());
    }
    return st;
}

int cmd_deploy(const std::string& app, const std::vector<std::string>& dirs) {
    if (!config_of(app, dirs)) return cli::kConfigError;
    auto connected = sys::Systemd::connect();
    if (!connected) {
        std::fprintf(stderr, "huddlectl: %s\n", connected.error().message.c_str());
        return cli::kSystemError;
    }
    auto& sd = *connected;
    std::string unit = fetch_unit_name(app);
    auto us = sd->unit_status(unit);
    if (!us) {
        std::fprintf(stderr, "huddlectl: %s\n", us.error().message.c_str());
        return cli::kSystemError;
    }
    if (!us->loaded) {
        std::fprintf(stderr, "huddlectl: %s is not loaded; start huddle-gen first (systemctl enable --now huddle-gen)\n", unit.c_str());
        return cli::kSystemError;
    }
    std::printf("%s: polling now (%s)...\n", app.c_str(), unit.c_str());
    std::fflush(stdout);
    // The poll's verdict is its exit status, whether the job "failed" or not.
    (void)sd->start_and_wait(unit, false, 24 * 3600 * kUsecPerSec);
    auto status = sd->unit_number(unit, "org.freedesktop.systemd1.Service", "ExecMainStatus", 'i');
    int code = status ? static_cast<int>(*status) : sys::kFetchTemporary;
    std::printf("%s: %s (huddle-fetch exit status %d; journalctl -u %s shows the details)\n", app.c_str(), sys::exit_meaning(code).c_str(), code,
                app_unit_name(app).c_str());
    return code;
}

std::string signer_text(const Signer& s) { return s.principal.empty() ? "" : s.principal + " (" + s.fingerprint + ")"; }
nlohmann::json signer_json(const Signer& s) { return {{"principal", s.principal}, {"fingerprint", s.fingerprint}}; }

int cmd_history(const std::string& app, bool json) {
    AppState st = read_state(app);
    if (json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& h : st.history)
            out.push_back({{"time", h.time}, {"commit", h.commit}, {"ref", h.ref}, {"result", h.result}, {"detail", h.detail}, {"signer", signer_json(h.signer)}});
        std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return 0;
    }
    if (st.history.empty()) {
        std::printf("%s: no deploys recorded\n", app.c_str());
        return 0;
    }
    std::printf("%-19s  %-12s  %-12s  %s\n", "TIME", "COMMIT", "RESULT", "REF / DETAIL");
    // Commits, refs, signers and details (a server's error message) are
    // stored from what the remote sent: printed escaped.
    for (const auto& h : st.history) {
        std::string signer = h.signer.principal.empty() ? "" : ", signed by " + signer_text(h.signer);
        std::printf("%-19s  %-12s  %-12s  %s%s%s%s\n", when(h.time).c_str(), escape_untrusted(h.commit.substr(0, 12)).c_str(),
                    escape_untrusted(h.result).c_str(), escape_untrusted(h.ref).c_str(), escape_untrusted(signer).c_str(),
                    h.detail.empty() ? "" : ": ", escape_untrusted(h.detail).c_str());
    }
    return 0;
}

// What systemd says of one app's units.
struct UnitFacts {
    std::string state = "unknown", last_result = "-";
    int64_t last_poll = 0, next_poll = -1;
};

UnitFacts unit_facts(sys::Systemd& sd, const sys::LoadedApp& a) {
    UnitFacts u;
    const std::string& app = a.source.app;
    auto us = sd.unit_status(app_unit_name(app));
    std::string loaded = !us ? "unknown" : us->loaded ? us->active_state : "not-loaded";
    u.state = !a.result.config ? "config-error" : !a.result.config->app ? "files-only" : loaded;
    const char* service = "org.freedesktop.systemd1.Service";
    auto fetch = fetch_unit_name(app);
    if (auto f = sd.unit_status(fetch); f && f->active_state == "activating") {
        u.last_result = "polling now";  // its timestamps are reset until it ends
    } else if (auto t = sd.unit_number(fetch, service, "ExecMainExitTimestamp", 't'); t && *t > 0) {
        u.last_poll = *t / 1000000;
        auto code = sd.unit_number(fetch, service, "ExecMainStatus", 'i');
        u.last_result = sys::exit_meaning(code ? static_cast<int>(*code) : -1);
    }
    if (auto t = sd.unit_number(timer_unit_name(app), "org.freedesktop.systemd1.Timer", "NextElapseUSecMonotonic", 't'); t && *t > 0)
        u.next_poll = (*t - static_cast<int64_t>(sys::monotonic_usec())) / 1000000;
    return u;
}

// What a poll would do now (--remote): asks the remote, changes nothing.
std::string remote_verdict(const sys::LoadedApp& a) {
    if (!a.result.config) return "-";
    auto v = sys::dry_run(*a.result.config);
    return v ? describe(*v) : "cannot tell: " + v.error().message;
}

int cmd_status(const std::vector<std::string>& args, const std::vector<std::string>& dirs, bool json, bool remote) {
    auto loaded = sys::load_apps(dirs);
    auto sd = sys::Systemd::connect();
    nlohmann::json out = nlohmann::json::array();
    bool any = false;
    for (const auto& a : loaded.apps) {
        if (!args.empty() && std::find(args.begin(), args.end(), a.source.app) == args.end()) continue;
        any = true;
        const std::string& app = a.source.app;
        AppState st = read_state(app);
        UnitFacts u = sd ? unit_facts(**sd, a) : UnitFacts{};
        int64_t last_deploy = 0;
        for (const auto& h : st.history)
            if (h.result == "deployed" || h.result == "rollback") last_deploy = h.time;
        std::string verdict = remote ? remote_verdict(a) : "";
        if (json) {
            nlohmann::json j = {{"app", app},           {"state", u.state},           {"commit", st.deployed},
                                {"ref", st.ref},         {"last_poll", u.last_poll},   {"last_poll_result", u.last_result},
                                {"next_poll_in_seconds", u.next_poll}, {"last_deploy", last_deploy}, {"config", a.source.path},
                                {"signer", signer_json(st.signer)}};
            if (remote) j["remote"] = verdict;
            out.push_back(j);
            continue;
        }
        std::printf("%s (%s)\n  state:       %s\n  commit:      %s\n  ref:         %s\n  last poll:   %s, %s\n  next poll:   %s\n  last deploy: %s\n",
                    app.c_str(), a.source.path.c_str(), u.state.c_str(), st.deployed.empty() ? "-" : escape_untrusted(st.deployed).c_str(),
                    st.ref.empty() ? "-" : escape_untrusted(st.ref).c_str(), when(u.last_poll).c_str(), u.last_result.c_str(),
                    u.next_poll < 0 ? "-" : ("in " + std::to_string(u.next_poll) + "s").c_str(), when(last_deploy).c_str());
        if (!st.signer.principal.empty()) std::printf("  signer:      %s\n", escape_untrusted(signer_text(st.signer)).c_str());
        if (remote) std::printf("  remote:      %s\n", escape_untrusted(verdict).c_str());
    }
    if (json) std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    if (!any && !args.empty()) {
        std::fprintf(stderr, "huddlectl: no config for %s in the search path\n", args[0].c_str());
        return cli::kConfigError;
    }
    if (!sd) {
        std::fprintf(stderr, "huddlectl: %s (unit states unknown)\n", sd.error().message.c_str());
        return cli::kSystemError;
    }
    return cli::kOk;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"huddlectl: validate, show and plan huddle's app configs; status, deploy, roll back and history of its apps.\n\n"
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
    double budget = -1;
    cli::add_poll_budget_option(*plan, budget);
    plan->footer("Examples:\n"
                 "  huddlectl plan                       every app's units\n"
                 "  huddlectl plan web                   the units of /etc/huddle/web.{json,ini,toml}\n"
                 "  huddlectl plan ./web.toml --json     a file not yet installed, for tooling\n"
                 "  huddlectl plan --poll-budget 50      the timers a budget of 50 polls a second would give\n\n"
                 "Exit status: 0 if every app planned, 1 if any config has errors (the others are still printed).");

    std::string showarg;
    bool showjson = false;
    auto* show = app.add_subcommand("show", "Show APP's config as huddle read it: every setting, defaults included, with the file and line it came from");
    show->add_option("APP", showarg, "The app, or the path to a config file")->required();
    show->add_flag("--json", showjson, "Print JSON: the diagnostics, every entry as read (INI: after [DEFAULT] and %-interpolation), every setting");
    show->footer("Examples:\n"
                 "  huddlectl show web                   what /etc/huddle/web.{json,ini,toml} means, setting by setting\n"
                 "  huddlectl show ./old-huddle.ini      a Huddle-era INI file before installing it\n\n"
                 "Exit status: 0 if the config is valid, 1 if it has errors (the entries as read are still shown).");

    std::vector<std::string> sargs;
    bool sjson = false, sremote = false;
    auto* status = app.add_subcommand("status", "Show each app's state, deployed commit, ref, last and next poll, last deploy");
    status->add_option("APP", sargs, "App names (default: all)");
    status->add_flag("--json", sjson, "Print JSON");
    status->add_flag("--remote", sremote, "Also ask each app's remote what a poll would do now (\"would deploy ...\"); changes nothing");
    status->footer("Examples:\n  huddlectl status\n  huddlectl status web --json\n  huddlectl status web --remote");
    std::string dapp;
    auto* deploy = app.add_subcommand("deploy", "Poll APP now (starts huddle-fetch@APP.service), wait for it, exit with its result");
    deploy->add_option("APP", dapp, "The app")->required();
    deploy->footer("Examples:\n  huddlectl deploy web      deploy web's new commit now instead of at the next tick\n\n"
                   "Exit status: huddle-fetch's (see huddle-fetch --help): 0 up to date or deployed, 4 rejected, 5 rolled back, ...");
    std::string rapp, rto;
    auto* rollback = app.add_subcommand("rollback", "Switch APP back to its previous release (or --to COMMIT) and restart it");
    rollback->add_option("APP", rapp, "The app")->required();
    rollback->add_option("--to", rto, "A commit (or its prefix) of a release still on disk; see huddlectl history");
    rollback->footer("Examples:\n  huddlectl rollback web\n  huddlectl rollback web --to 3b17cd5\n\n"
                     "The commit rolled back from is not redeployed until its ref moves again.");
    std::string happ;
    bool hjson = false;
    auto* history = app.add_subcommand("history", "List APP's deploys, rejections and rollbacks");
    history->add_option("APP", happ, "The app")->required();
    history->add_flag("--json", hjson, "Print JSON");
    history->footer("Examples:\n  huddlectl history web\n  huddlectl history web --json");
    if (auto rc = cli::parse(app, argc, argv)) return *rc;
    std::vector<std::string> dirs = sys::search_path(override_dirs);
    if (*validate) return cmd_validate(vargs, dirs);
    if (*show) return cli::show(showarg, dirs, showjson);
    if (*plan) return cmd_plan(pargs, dirs, override_dirs, budget, json);
    if (*status) return cmd_status(sargs, dirs, sjson, sremote);
    if (*deploy) return cmd_deploy(dapp, dirs);
    if (*history) return cmd_history(happ, hjson);
    if (*rollback) {
        sys::log_setup("huddlectl", sys::LogTarget::console);
        auto c = config_of(rapp, dirs);
        return c ? sys::rollback(*c, rto) : cli::kConfigError;
    }
    return cli::kUsage;
}
