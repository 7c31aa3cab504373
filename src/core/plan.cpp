#include "plan.hpp"

#include "fnv.hpp"
#include "overloaded.hpp"
#include "pollbudget.hpp"
#include "unitname.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace huddle {

namespace {
std::string unit_name(std::string_view prefix, const std::string& app, std::string_view suffix) {
    std::string out(prefix);
    out += unit_name_escape(app);
    out += suffix;
    return out;
}
}  // namespace

std::string app_unit_name(const std::string& app) { return unit_name(kAppUnitPrefix, app, kServiceSuffix); }
std::string timer_unit_name(const std::string& app) { return unit_name(kFetchUnitPrefix, app, kTimerSuffix); }
std::string fetch_unit_name(const std::string& app) { return unit_name(kFetchUnitPrefix, app, kServiceSuffix); }
std::string watchdog_timer_unit_name(const std::string& app) { return unit_name(kWatchdogUnitPrefix, app, kTimerSuffix); }
std::string watchdog_unit_name(const std::string& app) { return unit_name(kWatchdogUnitPrefix, app, kServiceSuffix); }

const char* role_name(UnitRole r) {
    switch (r) {
    case UnitRole::app: return "app";
    case UnitRole::timer: return "timer";
    case UnitRole::fetch: return "fetch";
    case UnitRole::watchdog_timer: return "watchdog-timer";
    case UnitRole::watchdog: return "watchdog";
    }
    return "?";
}

usec_t first_poll_delay(const std::string& machine_id, const std::string& app, usec_t minimum, usec_t poll_floor) {
    Fnv1a fnv;
    fnv.add(machine_id + "/" + app);
    uint64_t h = fnv.value();
    usec_t window = std::max(std::min<usec_t>(minimum, 60 * kUsecPerSec), poll_floor);
    return kUsecPerSec + (h % (window / kUsecPerSec + 1)) * kUsecPerSec;
}

usec_t fetch_timeout(const AppConfig& c) {
    const DeployConfig& d = c.deploy;
    usec_t network = 10 * 60 * kUsecPerSec;
    usec_t scripts = 3 * d.timeout;  // pre-pull, build, verify
    usec_t health = d.settle + (d.health_command.empty() ? 0 : d.health_timeout);
    usec_t stop = c.app && c.app->stop_timeout ? *c.app->stop_timeout : 90 * kUsecPerSec;
    return network + scripts + 2 * (health + stop + 90 * kUsecPerSec);
}

namespace {

Property s(const char* n, std::string v) { return {n, "s", std::move(v)}; }
Property t(const char* n, uint64_t v) { return {n, "t", v}; }
Property as(const char* n, std::vector<std::string> v) { return {n, "as", std::move(v)}; }
Property b(const char* n, bool v) { return {n, "b", v}; }
Property mode(const char* n, uint32_t v) { return {n, "u", uint64_t{v}}; }

// huddle-fetch runs as root, talks to the network and runs the app's build
// as the app's user. What it needs: write access to the app's state
// directory and the local path's parent, the network, PID 1's socket, and
// the capabilities to run and clean up after the app's user. Everything else
// is shut.
// `deploys`: the fetch service; without it, the watchdog, which only takes
// the app's lock (in its state directory), checks and restarts.
void sandbox(std::vector<Property>& pr, const AppConfig& c, bool deploys) {
    std::string state = "huddle/" + c.name;
    pr.push_back(as("StateDirectory", {state}));
    // Others may pass through to the app's data and releases, which keep
    // their own modes, but not list it; its files are root's and 0600.
    pr.push_back(mode("StateDirectoryMode", 0711));
    if (deploys) {
        // The deploy slots (src/sys/slots.hpp): made by systemd, root's,
        // kept between runs; huddle-fetch makes the directory 0700.
        pr.push_back(as("RuntimeDirectory", {"huddle/slots"}));
        pr.push_back(s("RuntimeDirectoryPreserve", "yes"));
        // systemd sets the mode at every start: 0755 unless told.
        pr.push_back(mode("RuntimeDirectoryMode", 0700));
        std::string parent = c.repo.local_path.substr(0, c.repo.local_path.rfind('/'));
        if (!parent.empty() && parent != "/var/lib/" + state)
            pr.push_back(as("ReadWritePaths", {"-" + parent}));  // "-": a parent that does not exist is no error at start
    }
    pr.push_back(s("ProtectSystem", "strict"));
    pr.push_back(s("ProtectHome", "read-only"));
    pr.push_back(s("ProtectProc", "invisible"));
    for (const char* name : {"PrivateTmp", "PrivateDevices", "NoNewPrivileges", "ProtectKernelTunables", "ProtectKernelModules",
                             "ProtectKernelLogs", "ProtectControlGroups", "ProtectClock", "ProtectHostname", "RestrictRealtime",
                             "RestrictSUIDSGID", "LockPersonality"})
        pr.push_back(b(name, true));
    // The namespace types allowed: time only, which takes CAP_SYS_ADMIN the
    // unit does not have, so in effect none. Not 0: systemd 252 to 257 write
    // an empty mask into the transient unit file as "RestrictNamespaces=",
    // which reads back after a daemon-reload as no restriction at all.
    pr.push_back(t("RestrictNamespaces", kCloneNewTime));
    // Unix for PID 1 and the journal, IP for remotes, netlink for getaddrinfo.
    pr.push_back({"RestrictAddressFamilies", "(bas)", NameList{true, {"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"}}});
    pr.push_back({"SystemCallFilter", "(bas)", NameList{true, {"@system-service"}}});
    pr.push_back(as("SystemCallArchitectures", {"native"}));
    // CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER: hand a release to the app's
    // user and take it back; CAP_KILL: end a step that timed out;
    // CAP_SETGID, CAP_SETUID: run steps as the app's user.
    pr.push_back(t("CapabilityBoundingSet", deploys ? (1u << 0) | (1u << 1) | (1u << 3) | (1u << 5) | (1u << 6) | (1u << 7) : 0));
}

// The app's own sandbox: what an app running as a user of its own has no
// business doing (kernel tunables, modules, the clock, other users'
// processes, writing /usr or /etc, gaining privileges), shut without
// changing what ordinary apps do: devices, address families, namespaces and
// home directories stay open (IoT apps use serial ports and CAN, browsers
// namespaces). `systemd-analyze security` rates it "OK" (3.2 for a user of
// its own, on systemd 252). An app run as root keeps root's capabilities; `sandbox = no`
// drops all of it.
void app_sandbox(std::vector<Property>& pr, const ApplicationConfig& a) {
    if (!a.sandbox) return;
    pr.push_back(s("ProtectSystem", "full"));
    pr.push_back(s("ProtectProc", "invisible"));
    for (const char* name : {"PrivateTmp", "NoNewPrivileges", "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
                             "ProtectControlGroups", "ProtectClock", "ProtectHostname", "RestrictRealtime", "RestrictSUIDSGID", "LockPersonality"})
        pr.push_back(b(name, true));
    pr.push_back({"SystemCallFilter", "(bas)", NameList{true, {"@system-service"}}});
    pr.push_back(as("SystemCallArchitectures", {"native"}));
    if (a.user != "root" && a.user != "0") pr.push_back(t("CapabilityBoundingSet", 0));
}

Property exec(const char* n, std::vector<std::string> argv) {
    // systemd expands $VAR in ExecStart; argv words are literal here, so
    // every '$' is doubled, over D-Bus as in a unit file.
    for (auto& a : argv) {
        std::string e;
        for (char ch : a) {
            e += ch;
            if (ch == '$') e += '$';
        }
        a = e;
    }
    std::string path = argv.at(0);
    return {n, "a(sasb)", std::vector<ExecCommand>{{path, std::move(argv), false}}};
}

// The app's ExecStart. systemd 252 writes an argument holding '$' or ';'
// into the transient unit file as "\$" and "\;", escapes its own parser does
// not know: after any daemon-reload it reads them back with the backslash,
// so a restart runs another command (`sh -c 'a; b'` runs `a\; b`, and
// "$$HOME" becomes "\$\$HOME"). Such a command goes through the environment
// instead, which survives the round trip: HUDDLE_ARGC and HUDDLE_ARGV_N hold
// the words, and `huddle-fetch --exec-environment` execs them (exec-env.hpp).
// `passed`: the NAME=VALUE assignments that carry them.
Property app_exec_start(const ApplicationConfig& a, const std::string& fetch_binary, std::vector<std::string>& passed) {
    bool mangled = std::any_of(a.start.begin(), a.start.end(), [](const std::string& w) { return w.find_first_of("$;") != std::string::npos; });
    if (!mangled) return exec("ExecStart", a.start);
    passed.push_back("HUDDLE_ARGC=" + std::to_string(a.start.size()));
    for (size_t i = 0; i < a.start.size(); ++i) passed.push_back("HUDDLE_ARGV_" + std::to_string(i) + "=" + a.start[i]);  // literal: no $-expansion
    return exec("ExecStart", {fetch_binary, "--exec-environment"});
}

UnitPlan app_unit(const AppConfig& c, const ApplicationConfig& a, const PlanContext& ctx) {
    const std::string data_dir = "/var/lib/huddle/" + c.name + "/data";
    UnitPlan u{app_unit_name(c.name), UnitRole::app, {}};
    auto& pr = u.properties;
    pr.push_back(s("Description", "huddle app " + c.name));
    // Not started before the first release is live; the fetch service
    // starts it after the first deploy.
    pr.push_back({"Conditions", "a(sbbs)", std::vector<Condition>{{"ConditionPathExists", false, false, c.repo.local_path}}});
    pr.push_back(s("Slice", "huddle.slice"));
    pr.push_back(s("Type", a.type));
    std::vector<std::string> passed;
    pr.push_back(app_exec_start(a, ctx.fetch_binary, passed));
    pr.push_back(s("WorkingDirectory", a.working_directory));
    pr.push_back(s("User", a.user));
    if (!a.group.empty()) pr.push_back(s("Group", a.group));
    std::vector<std::string> env = {"HUDDLE_APP=" + c.name, "HUDDLE_DATA=" + data_dir};
    env.insert(env.end(), passed.begin(), passed.end());
    for (const auto& [k, v] : a.environment) env.push_back(k + "=" + v);
    pr.push_back(as("Environment", env));
    // release.env carries HUDDLE_COMMIT and HUDDLE_RELEASE, rewritten at
    // each deploy; missing before the first one, hence ignore-missing.
    std::vector<std::pair<std::string, bool>> files = {{"/var/lib/huddle/" + c.name + "/release.env", true}};
    if (!a.environment_file.empty()) files.emplace_back(a.environment_file, false);
    pr.push_back({"EnvironmentFiles", "a(sb)", files});
    pr.push_back(as("StateDirectory", {"huddle/" + c.name + "/data"}));
    // HUDDLE_DATA is the app's alone. systemd gives it to the app's user
    // at each start, which also moves it over from an earlier user.
    pr.push_back(mode("StateDirectoryMode", 0700));
    pr.push_back(s("Restart", a.restart));
    if (a.stop_timeout) pr.push_back(t("TimeoutStopUSec", *a.stop_timeout));
    app_sandbox(pr, a);
    return u;
}

UnitPlan poll_timer_unit(const AppConfig& c, const PlanContext& ctx) {
    UnitPlan u{timer_unit_name(c.name), UnitRole::timer, {}};
    auto& pr = u.properties;
    bool slowed = mean_poll_period(c.timing) < ctx.poll_floor;
    TimingConfig timing = slowed_timing(c.timing, ctx.poll_floor);
    usec_t min = timing.minimum;
    usec_t spread = timing.maximum ? *timing.maximum - min : 0;
    std::string description = "huddle poll timer for " + c.name;
    if (slowed)  // `systemctl status` says why the timer is not what the config says
        description += fmt::format(" (slowed by the poll budget from {}{})", format_timespan(c.timing.minimum),
                                   c.timing.maximum ? "-" + format_timespan(*c.timing.maximum) : "");
    pr.push_back(s("Description", description));
    pr.push_back({"TimersMonotonic", "a(st)",
                  std::vector<std::pair<std::string, uint64_t>>{{"OnActiveSec", first_poll_delay(ctx.machine_id, c.name, min, slowed ? ctx.poll_floor : 0)},
                                                               {"OnUnitActiveSec", min}}});
    pr.push_back(t("RandomizedDelayUSec", spread));
    // systemd's default AccuracySec=1min would bunch the fleet's polls
    // into the same minute again.
    pr.push_back(t("AccuracyUSec", kUsecPerSec));
    return u;
}

// huddle-fetch's command line: the config directories when they are not
// the search path, --watchdog for the watchdog's check, the app.
std::vector<std::string> fetch_argv(const AppConfig& c, const PlanContext& ctx, bool watchdog) {
    std::vector<std::string> argv = {ctx.fetch_binary};
    for (const auto& d : ctx.config_dirs) {
        argv.push_back("-c");
        argv.push_back(d);
    }
    if (watchdog) argv.push_back("--watchdog");
    argv.push_back(c.name);
    return argv;
}

UnitPlan fetch_unit(const AppConfig& c, const PlanContext& ctx) {
    UnitPlan u{fetch_unit_name(c.name), UnitRole::fetch, {}};
    auto& pr = u.properties;
    pr.push_back(s("Description", "huddle poll and deploy for " + c.name));
    std::vector<std::string> wants = {"network-online.target"};
    std::vector<std::string> after = {"network-online.target"};
    // Also a reference that keeps the app unit loaded while it is
    // stopped, so `systemctl start` on it keeps working.
    if (c.app) after.push_back(app_unit_name(c.name));
    pr.push_back(as("Wants", wants));
    pr.push_back(as("After", after));
    pr.push_back(s("Type", "oneshot"));
    pr.push_back(exec("ExecStart", fetch_argv(c, ctx, false)));
    pr.push_back(t("TimeoutStartUSec", fetch_timeout(c)));
    // Polls and `huddlectl deploy` may start it often; a start limit
    // would silently stop deploys.
    pr.push_back(t("StartLimitIntervalUSec", 0));
    sandbox(pr, c, true);
    // A remote's worth of memory and tasks (LimitsConfig): beyond them the
    // kernel stops the cycle, not the machine. Each step has the same limits
    // again in its own scope (src/sys/stepscope.hpp).
    pr.push_back(t("MemoryMax", c.limits.memory));
    pr.push_back(t("TasksMax", c.limits.tasks));
    return u;
}

// Huddle's watchdog: the same check that gates deploys, every period while
// the app runs; a failure restarts the app.
UnitPlan watchdog_timer_unit(const AppConfig& c, const WatchdogConfig& w) {
    UnitPlan timer{watchdog_timer_unit_name(c.name), UnitRole::watchdog_timer, {}};
    timer.properties.push_back(s("Description", "huddle watchdog timer for " + c.name));
    timer.properties.push_back({"TimersMonotonic", "a(st)",
                                std::vector<std::pair<std::string, uint64_t>>{{"OnActiveSec", w.period}, {"OnUnitActiveSec", w.period}}});
    timer.properties.push_back(t("AccuracyUSec", kUsecPerSec));
    return timer;
}

UnitPlan watchdog_unit(const AppConfig& c, const PlanContext& ctx) {
    UnitPlan svc{watchdog_unit_name(c.name), UnitRole::watchdog, {}};
    svc.properties.push_back(s("Description", "huddle watchdog check for " + c.name));
    svc.properties.push_back(as("After", {app_unit_name(c.name)}));
    svc.properties.push_back(s("Type", "oneshot"));
    svc.properties.push_back(exec("ExecStart", fetch_argv(c, ctx, true)));
    svc.properties.push_back(t("TimeoutStartUSec", 5 * 60 * kUsecPerSec));
    svc.properties.push_back(t("StartLimitIntervalUSec", 0));
    sandbox(svc.properties, c, false);
    return svc;
}

}  // namespace

AppPlan plan_app(const AppConfig& c, const PlanContext& ctx) {
    AppPlan p;
    p.app = c.name;
    p.file = c.file;
    if (c.app) p.units.push_back(app_unit(c, *c.app, ctx));
    p.units.push_back(poll_timer_unit(c, ctx));
    p.units.push_back(fetch_unit(c, ctx));
    if (c.watchdog && c.app) {
        p.units.push_back(watchdog_timer_unit(c, *c.watchdog));
        p.units.push_back(watchdog_unit(c, ctx));
    }
    for (auto& u : p.units) stamp_fingerprint(u);
    return p;
}

std::string unit_fingerprint(const UnitPlan& u) {
    // FNV-1a over a canonical walk of the properties: no allocation, since
    // huddle-gen fingerprints every unit of every app on every run. Each
    // string is hashed after its length, each list after its size.
    Fnv1a h;
    auto str = [&](const std::string& s) {
        uint64_t n = s.size();
        h.add(&n, sizeof n);
        h.add(s);
    };
    auto num = [&](uint64_t v) { h.add(&v, sizeof v); };
    auto strings = [&](const std::vector<std::string>& v) {
        num(v.size());
        for (const auto& item : v) str(item);
    };
    auto pairs = [&](const auto& v) {  // a(sb), a(st)
        num(v.size());
        for (const auto& [first, second] : v) {
            str(first);
            num(static_cast<uint64_t>(second));
        }
    };
    str(u.name);
    for (const auto& p : u.properties) {
        if (p.name == "Description") continue;
        str(p.name);
        str(p.signature);
        std::visit(overloaded{
                       [&](const std::string& v) { str(v); },
                       [&](bool v) { num(static_cast<uint64_t>(v)); },
                       [&](uint64_t v) { num(v); },
                       [&](const NameList& v) {
                           num(v.allow);
                           strings(v.names);
                       },
                       [&](const std::vector<std::string>& v) { strings(v); },
                       [&](const std::vector<ExecCommand>& v) {
                           num(v.size());
                           for (const auto& item : v) {
                               str(item.path);
                               strings(item.argv);
                               num(item.ignore_failure);
                           }
                       },
                       [&](const std::vector<Condition>& v) {
                           num(v.size());
                           for (const auto& item : v) {
                               str(item.type);
                               num(item.trigger);
                               num(item.negate);
                               str(item.parameter);
                           }
                       },
                       [&](const std::vector<std::pair<std::string, bool>>& v) { pairs(v); },
                       [&](const std::vector<std::pair<std::string, uint64_t>>& v) { pairs(v); },
                   },
                   p.value);
    }
    return fmt::format("{:016x}", h.value());
}

void stamp_fingerprint(UnitPlan& u) {
    std::string fp = unit_fingerprint(u);
    for (auto& p : u.properties)
        if (p.name == "Description") std::get<std::string>(p.value) += " [plan " + fp + "]";
}

std::string fingerprint_of_description(const std::string& description) {
    size_t at = description.rfind(" [plan ");
    if (at == std::string::npos || description.size() != at + 7 + 16 + 1 || description.back() != ']') return "";
    return description.substr(at + 7, 16);
}

}  // namespace huddle
