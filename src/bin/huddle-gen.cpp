// huddle-gen: make systemd's transient units match the app configs, then exit.
#include <CLI/CLI.hpp>
#include <sys/stat.h>

#include <cstdio>

#include "cli_common.hpp"
#include "config.h"
#include "core/appuser.hpp"
#include "core/reconcile.hpp"
#include "core/unitname.hpp"
#include "sys/apps.hpp"
#include "sys/fs.hpp"
#include "sys/log.hpp"
#include "sys/cycle.hpp"
#include "sys/systemd.hpp"
#include "sys/users.hpp"

using namespace huddle;

namespace {

constexpr usec_t kStartWait = 30 * kUsecPerSec;

// Every unit name huddle makes (unitname.hpp), as a pattern for systemd.
std::string pattern(std::string_view prefix, std::string_view suffix) {
    return std::string(prefix) + "*" + std::string(suffix);
}
const std::vector<std::string> kPatterns = {pattern(kAppUnitPrefix, kServiceSuffix),      pattern(kFetchUnitPrefix, kServiceSuffix),
                                            pattern(kFetchUnitPrefix, kTimerSuffix),       pattern(kWatchdogUnitPrefix, kServiceSuffix),
                                            pattern(kWatchdogUnitPrefix, kTimerSuffix)};

// What the config directories hold, cheaply: names, sizes, mtimes, inodes. A
// change during a reconcile makes huddle-gen run again before exiting, since
// systemd merges a path trigger into the run already in progress.
std::string dirs_signature(const std::vector<std::string>& dirs) {
    std::string sig;
    for (const auto& d : dirs) {
        DirListing l = sys::list_dir(d);
        sig += d + "\n";
        for (const auto& e : l.entries) {
            struct stat st {};
            if (::stat((d + "/" + e.name).c_str(), &st) != 0) continue;
            sig += e.name + " " + std::to_string(st.st_size) + " " + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) +
                   " " + std::to_string(st.st_ino) + "\n";
        }
    }
    return sig;
}

struct Counts {
    size_t created = 0, replaced = 0, removed = 0, kept = 0, failed = 0;
};

bool config_errors_logged(const sys::LoadedApps& loaded) {
    bool any = false;
    for (const auto& item : loaded.diags.sorted()) {
        sys::ScopedLogFields f({{"MESSAGE_ID", sys::msgid::kConfigRejected}});
        if (item.severity == Severity::error) {
            spdlog::error("{}", format_diagnostic(item));
            any = true;
        }
    }
    for (const auto& a : loaded.apps) {
        for (const auto& item : a.result.diags.sorted()) {
            if (item.severity == Severity::notice) continue;
            std::vector<sys::LogField> fields = {{"HUDDLE_APP", a.source.app}};
            if (item.severity == Severity::error) fields.push_back({"MESSAGE_ID", sys::msgid::kConfigRejected});
            sys::ScopedLogFields f(fields);
            if (item.severity == Severity::error)
                spdlog::error("{}", format_diagnostic(item));
            else
                spdlog::warn("{}", format_diagnostic(item));
        }
        if (!a.result.config) {
            any = true;
            sys::ScopedLogFields f({{"HUDDLE_APP", a.source.app}, {"MESSAGE_ID", sys::msgid::kConfigRejected}});
            spdlog::error("{}: config rejected; the units of app {} are left as they are", a.source.path, a.source.app);
        }
    }
    return any;
}

// The users of the apps that run as their own, and every app's fetch user
// (core/appuser.hpp), made before any unit names them; an explicit `user =`
// is the operator's to make.
std::map<std::string, sys::Error> make_app_users(const sys::LoadedApps& loaded) {
    std::vector<sys::AppUser> users;
    for (const auto& a : loaded.apps) {
        const auto& c = a.result.config;
        if (!c) continue;
        if (sys::app_user(*c) == default_app_user(c->name)) users.push_back({sys::app_user(*c), c->name, false});
        users.push_back({default_fetch_user(c->name), c->name, true});
    }
    return sys::ensure_app_users(users);
}

int reconcile_once(const std::vector<std::string>& dirs, const std::vector<std::string>& override_dirs, double budget, bool dry_run,
                   bool& config_errors, Counts& counts) {
    sys::LoadedApps loaded = sys::load_apps(dirs);
    config_errors = config_errors_logged(loaded);
    PlanContext ctx = cli::plan_context(override_dirs);
    PollBudget polls = cli::apply_poll_budget(loaded, budget, ctx);
    if (polls.floor) {
        sys::ScopedLogFields f({{"MESSAGE_ID", sys::msgid::kPollsSlowed}});
        spdlog::warn("{}", cli::poll_budget_notice(polls, loaded.apps.size()));
    }
    std::vector<AppPlan> desired;
    std::set<std::string> keep(loaded.broken_apps.begin(), loaded.broken_apps.end());
    std::map<std::string, sys::Error> no_user = dry_run ? std::map<std::string, sys::Error>{} : make_app_users(loaded);
    for (const auto& a : loaded.apps) {
        const auto& c = a.result.config;
        auto missing = c ? no_user.find(sys::app_user(*c)) : no_user.end();
        if (c && missing == no_user.end()) missing = no_user.find(default_fetch_user(c->name));
        if (c && missing != no_user.end()) {
            config_errors = true;
            sys::ScopedLogFields f({{"HUDDLE_APP", a.source.app}, {"MESSAGE_ID", sys::msgid::kConfigRejected}});
            spdlog::error("{}; the units of app {} are left as they are", missing->second.message, a.source.app);
            keep.insert(a.source.app);
        } else if (c) {
            desired.push_back(plan_app(*c, ctx));
        } else {
            keep.insert(a.source.app);
        }
    }

    auto connected = sys::Systemd::connect();
    if (!connected) {
        spdlog::error("{}", connected.error().message);
        return cli::kSystemError;
    }
    auto& systemd = *connected;
    auto live = systemd->list_units(kPatterns);
    if (!live) {
        spdlog::error("{}", live.error().message);
        return cli::kSystemError;
    }
    Reconciliation rec = reconcile(desired, keep, *live);

    if (dry_run) {
        for (const auto& a : rec.actions) std::printf("%-8s %s\n", action_name(a.action), a.unit.c_str());
        return cli::kOk;
    }

    std::map<std::string, const UnitAction*> action_of;
    for (const auto& a : rec.actions) {
        action_of[a.unit] = &a;
        if (a.action == Action::keep) counts.kept++;
    }
    bool failures = false;
    auto report_failure = [&](const sys::JobOutcome& o) {
        failures = true;
        counts.failed++;
        const UnitAction* a = action_of.count(o.unit) ? action_of[o.unit] : nullptr;
        sys::ScopedLogFields f({{"HUDDLE_APP", a ? a->app : ""}, {"MESSAGE_ID", sys::msgid::kUnitFailed}});
        spdlog::error("{} {}: {}", o.operation, o.unit, o.status.error().message);
    };

    auto removal = systemd->remove_units(rec.stop);
    for (const auto& o : removal.stops)
        if (!o.ok()) report_failure(o);
    for (const auto& u : removal.still_loaded) {
        failures = true;
        spdlog::error("{} is still loaded after being stopped; it will be retried at the next run", u);
    }
    for (const auto& u : rec.stop) {
        const UnitAction* a = action_of[u];
        if (a->action != Action::remove) continue;
        counts.removed++;
        sys::ScopedLogFields f({{"HUDDLE_APP", a->app}, {"MESSAGE_ID", sys::msgid::kUnitRemoved}});
        spdlog::info("removed {}", u);
    }
    // huddle-gen runs during boot: an app that is slow to start must not
    // hold the boot up for its whole start timeout. Jobs still running
    // after this are left to systemd (systemctl status shows them).
    for (const auto& o : systemd->start_transients(rec.start, kStartWait)) {
        const UnitAction* a = action_of[o.unit];
        bool replaced = a->action == Action::replace;
        if (o.pending()) {
            sys::ScopedLogFields f({{"HUDDLE_APP", a->app}});
            spdlog::info("{} is still starting after {}; not waiting for it", o.unit, format_timespan(kStartWait));
            (replaced ? counts.replaced : counts.created)++;
            continue;
        }
        if (!o.ok()) {
            report_failure(o);
            continue;
        }
        (replaced ? counts.replaced : counts.created)++;
        sys::ScopedLogFields f({{"HUDDLE_APP", a->app}, {"MESSAGE_ID", replaced ? sys::msgid::kUnitReplaced : sys::msgid::kUnitCreated}});
        spdlog::info("{} {}", replaced ? "replaced" : "created", o.unit);
    }
    return failures ? cli::kSystemError : cli::kOk;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"huddle-gen: make systemd's transient units match the app configs in /etc/huddle/, /run/huddle/ and /usr/lib/huddle/,\n"
                 "then exit. Run at boot by huddle-gen.service and on every config change by huddle-gen.path.",
                 "huddle-gen"};
    app.set_version_flag("--version", HUDDLE_VERSION);
    std::vector<std::string> override_dirs;
    bool dry_run = false;
    double budget = -1;
    std::string log_target = "auto";
    app.add_option("-c,--config-dir", override_dirs, "Read configs from DIR instead of the search path (repeatable, highest precedence first)")
        ->type_name("DIR");
    app.add_flag("--dry-run", dry_run, "Print what would be done to each unit (create, replace, remove, keep); change nothing");
    cli::add_poll_budget_option(app, budget);
    cli::add_log_option(app, log_target);
    app.footer("Examples:\n"
               "  huddle-gen --dry-run        show what a reconcile would change\n"
               "  huddle-gen --poll-budget 0  make every timer poll exactly as its config says, however many apps there are\n"
               "  systemctl start huddle-gen  reconcile now, as the path unit does on every change\n\n"
               "Exit status: 0 all units match the configs; 1 some configs have errors (their apps' units are left as they\n"
               "were, the others are reconciled) or HUDDLE_POLL_BUDGET in /etc/default/huddle is not a rate; 2 usage error;\n"
               "3 systemd could not be reached or a unit job failed.");
    if (auto rc = cli::parse(app, argc, argv)) return *rc;
    sys::log_setup("huddle-gen", cli::log_target(log_target));
    std::vector<std::string> dirs = sys::search_path(override_dirs);
    int rc = cli::kOk;
    bool config_errors = false;
    Counts counts;
    for (int round = 0; round < 10; ++round) {
        std::string before = dirs_signature(dirs);
        std::string budget_error;
        double polls_a_second = cli::poll_budget(budget, budget_error);
        if (!budget_error.empty()) spdlog::error("{}", budget_error);
        rc = reconcile_once(dirs, override_dirs, polls_a_second, dry_run, config_errors, counts);
        config_errors = config_errors || !budget_error.empty();
        if (dry_run || rc == cli::kSystemError || dirs_signature(dirs) == before) break;
        spdlog::info("configs changed during the reconcile; reconciling again");
        counts = Counts{};
    }
    if (!dry_run)
        spdlog::info("reconciled: {} created, {} replaced, {} removed, {} unchanged, {} failed", counts.created, counts.replaced, counts.removed,
                     counts.kept, counts.failed);
    if (rc != cli::kOk) return rc;
    return config_errors ? cli::kConfigError : cli::kOk;
}
