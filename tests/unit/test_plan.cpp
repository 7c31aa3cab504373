#include "catch.hpp"

#include <set>

#include "core/plan.hpp"
#include "core/render.hpp"

using namespace huddle;

namespace {
AppConfig cfg(const std::string& text, const std::string& name = "web") {
    auto r = load_config(name, name + ".toml", Format::toml, text);
    INFO(text);
    REQUIRE(r.config);
    return *r.config;
}

const Property* prop(const UnitPlan& u, const std::string& n) {
    for (const auto& p : u.properties)
        if (p.name == n) return &p;
    return nullptr;
}

const UnitPlan* unit(const AppPlan& p, UnitRole r) {
    for (const auto& u : p.units)
        if (u.role == r) return &u;
    return nullptr;
}

PlanContext ctx() {
    PlanContext c;
    c.fetch_binary = "/usr/bin/huddle-fetch";
    c.machine_id = "0123456789abcdef0123456789abcdef";
    return c;
}
}  // namespace

TEST_CASE("plan: timer mapping") {
    struct Row {
        const char* timing;
        usec_t active;
        usec_t spread;
    };
    const Row rows[] = {
        {"", 60 * kUsecPerSec, 0},
        {"[timing]\nminimum = 10\n", 10 * kUsecPerSec, 0},
        {"[timing]\nminimum = 10\nmaximum = 20\n", 10 * kUsecPerSec, 10 * kUsecPerSec},
        {"[timing]\nminimum = \"1min\"\nmaximum = \"10min\"\n", 60 * kUsecPerSec, 540 * kUsecPerSec},
        {"[timing]\nminimum = 5\nmaximum = 5\n", 5 * kUsecPerSec, 0},
    };
    for (const auto& r : rows) {
        INFO(r.timing);
        AppPlan p = plan_app(cfg(std::string("[repository]\nremote_path = \"/r\"\n") + r.timing), ctx());
        const UnitPlan* t = unit(p, UnitRole::timer);
        REQUIRE(t);
        CHECK(t->name == "huddle-fetch@web.timer");
        auto mono = std::get<std::vector<std::pair<std::string, uint64_t>>>(prop(*t, "TimersMonotonic")->value);
        REQUIRE(mono.size() == 2);
        CHECK(mono[0].first == "OnActiveSec");
        CHECK(mono[0].second >= kUsecPerSec);
        CHECK(mono[0].second <= kUsecPerSec + std::min(r.active, 60 * kUsecPerSec));
        CHECK(mono[1] == std::pair<std::string, uint64_t>{"OnUnitActiveSec", r.active});
        CHECK(std::get<uint64_t>(prop(*t, "RandomizedDelayUSec")->value) == r.spread);
        CHECK(std::get<uint64_t>(prop(*t, "AccuracyUSec")->value) == kUsecPerSec);
    }
}

TEST_CASE("plan: the first poll is spread by machine") {
    std::set<usec_t> seen;
    for (int i = 0; i < 50; ++i) seen.insert(first_poll_delay("machine-" + std::to_string(i), "web", 60 * kUsecPerSec));
    CHECK(seen.size() > 20);
    CHECK(first_poll_delay("m", "web", 60 * kUsecPerSec) == first_poll_delay("m", "web", 60 * kUsecPerSec));
}

TEST_CASE("plan: [repository] only makes a poller and no app unit") {
    AppPlan p = plan_app(cfg("[repository]\nremote_path = \"/r\"\n"), ctx());
    CHECK_FALSE(unit(p, UnitRole::app));
    const UnitPlan* f = unit(p, UnitRole::fetch);
    REQUIRE(f);
    CHECK(f->name == "huddle-fetch@web.service");
    auto exec = std::get<std::vector<ExecCommand>>(prop(*f, "ExecStart")->value);
    CHECK(exec[0].path == "/usr/bin/huddle-fetch");
    CHECK(exec[0].argv == std::vector<std::string>{"/usr/bin/huddle-fetch", "web"});
    CHECK(std::get<std::vector<std::string>>(prop(*f, "After")->value) == std::vector<std::string>{"network-online.target"});
    // Deploys and `huddlectl deploy` start it often: no start limit.
    REQUIRE(prop(*f, "StartLimitIntervalUSec"));
    CHECK(std::get<uint64_t>(prop(*f, "StartLimitIntervalUSec")->value) == 0);
    // Not 0: systemd writes an empty mask into the transient file as "no restriction".
    CHECK(std::get<uint64_t>(prop(*f, "RestrictNamespaces")->value) == kCloneNewTime);
}

TEST_CASE("plan: a command holding '$' or ';' goes through the environment") {
    // systemd 252 writes "\\$" and "\\;" into the transient unit file and,
    // after a daemon-reload, reads them back with the backslash; the
    // environment survives it, and huddle-fetch --exec-environment execs it.
    AppPlan p = plan_app(cfg("[repository]\nremote_path = \"/r\"\n"
                             "[application]\nstart = \"/bin/sh -c 'echo $HOME; exec sleep 1' ; x\"\n"),
                         ctx());
    const UnitPlan* a = unit(p, UnitRole::app);
    REQUIRE(a);
    auto exec = std::get<std::vector<ExecCommand>>(prop(*a, "ExecStart")->value);
    CHECK(exec[0].path == "/usr/bin/huddle-fetch");
    CHECK(exec[0].argv == std::vector<std::string>{"/usr/bin/huddle-fetch", "--exec-environment"});
    auto env = std::get<std::vector<std::string>>(prop(*a, "Environment")->value);
    CHECK(env == std::vector<std::string>{"HUDDLE_APP=web", "HUDDLE_DATA=/var/lib/huddle/web/data", "HUDDLE_ARGC=5", "HUDDLE_ARGV_0=/bin/sh",
                                          "HUDDLE_ARGV_1=-c", "HUDDLE_ARGV_2=echo $HOME; exec sleep 1",  // the value is literal: no $$
                                          "HUDDLE_ARGV_3=;", "HUDDLE_ARGV_4=x"});
    // A command without either is passed as it is.
    AppPlan q = plan_app(cfg("[repository]\nremote_path = \"/r\"\n[application]\nstart = \"echo HUDDLE_ARGV_1\"\n"), ctx());
    auto qexec = std::get<std::vector<ExecCommand>>(prop(*unit(q, UnitRole::app), "ExecStart")->value);
    CHECK(qexec[0].argv == std::vector<std::string>{"echo", "HUDDLE_ARGV_1"});
}

TEST_CASE("plan: [application] makes the app service") {
    AppPlan p = plan_app(cfg("[repository]\nremote_path = \"/r\"\nlocal_path = \"/srv/web\"\n"
                             "[application]\nstart = \"python3 -m http.server 8080\"\nuser = \"www-data\"\ngroup = \"www\"\n"
                             "type = \"notify\"\nrestart = \"on-failure\"\nstop_timeout = \"30s\"\nenvironment = { PORT = 8080 }\n"
                             "environment_file = \"/etc/default/web\"\n"),
                         ctx());
    const UnitPlan* a = unit(p, UnitRole::app);
    REQUIRE(a);
    CHECK(a->name == "huddle@web.service");
    CHECK(prop(*a, "ExecStart")->signature == "a(sasb)");
    auto exec = std::get<std::vector<ExecCommand>>(prop(*a, "ExecStart")->value);
    CHECK(exec[0].argv == std::vector<std::string>{"python3", "-m", "http.server", "8080"});
    CHECK(std::get<std::string>(prop(*a, "User")->value) == "www-data");
    CHECK(std::get<std::string>(prop(*a, "Group")->value) == "www");
    CHECK(std::get<std::string>(prop(*a, "Type")->value) == "notify");
    CHECK(std::get<std::string>(prop(*a, "Restart")->value) == "on-failure");
    CHECK(std::get<std::string>(prop(*a, "Slice")->value) == "huddle.slice");
    CHECK(std::get<std::string>(prop(*a, "WorkingDirectory")->value) == "/srv/web");
    CHECK(std::get<uint64_t>(prop(*a, "TimeoutStopUSec")->value) == 30 * kUsecPerSec);
    auto env = std::get<std::vector<std::string>>(prop(*a, "Environment")->value);
    CHECK(env == std::vector<std::string>{"HUDDLE_APP=web", "HUDDLE_DATA=/var/lib/huddle/web/data", "PORT=8080"});
    auto files = std::get<std::vector<std::pair<std::string, bool>>>(prop(*a, "EnvironmentFiles")->value);
    CHECK(files == std::vector<std::pair<std::string, bool>>{{"/var/lib/huddle/web/release.env", true}, {"/etc/default/web", false}});
    auto conds = std::get<std::vector<Condition>>(prop(*a, "Conditions")->value);
    CHECK(conds[0].type == "ConditionPathExists");
    CHECK(conds[0].parameter == "/srv/web");
    // The fetch unit references the app, which keeps a stopped app loaded.
    auto after = std::get<std::vector<std::string>>(prop(*unit(p, UnitRole::fetch), "After")->value);
    CHECK(std::find(after.begin(), after.end(), "huddle@web.service") != after.end());
}

TEST_CASE("plan: [deploy] bounds the fetch service's run time") {
    AppConfig c = cfg("[repository]\nremote_path = \"/r\"\n[deploy]\ntimeout = \"1min\"\n");
    AppPlan p = plan_app(c, ctx());
    uint64_t t = std::get<uint64_t>(prop(*unit(p, UnitRole::fetch), "TimeoutStartUSec")->value);
    CHECK(t == fetch_timeout(c));
    AppConfig longer = cfg("[repository]\nremote_path = \"/r\"\n[deploy]\ntimeout = \"2min\"\n");
    CHECK(fetch_timeout(longer) == t + 3 * 60 * kUsecPerSec);
}

TEST_CASE("plan: config dirs given with -c reach huddle-fetch") {
    PlanContext c = ctx();
    c.config_dirs = {"/opt/cfg"};
    AppPlan p = plan_app(cfg("[repository]\nremote_path = \"/r\"\n"), c);
    auto exec = std::get<std::vector<ExecCommand>>(prop(*unit(p, UnitRole::fetch), "ExecStart")->value);
    CHECK(exec[0].argv == std::vector<std::string>{"/usr/bin/huddle-fetch", "-c", "/opt/cfg", "web"});
}

TEST_CASE("plan: names are escaped as systemd does") {
    AppPlan p = plan_app(cfg("[repository]\nremote_path = \"/r\"\n[application]\nstart = \"a\"\n", "my-app"), ctx());
    CHECK(p.units[0].name == "huddle@my\\x2dapp.service");
    CHECK(p.units[1].name == "huddle-fetch@my\\x2dapp.timer");
}

TEST_CASE("render: unit-file text for each property type") {
    AppPlan p = plan_app(cfg("[repository]\nremote_path = \"/r\"\n[application]\nstart = \"echo '50% off'\"\nenvironment = { MSG = 'say \"hi\"' }\n"), ctx());
    std::string text = render_app(p);
    CHECK_THAT(text, Catch::Contains("ExecStart=echo \"50%% off\""));
    std::string launched = render_app(plan_app(cfg("[repository]\nremote_path = \"/r\"\n[application]\nstart = \"echo $X\"\n"), ctx()));
    CHECK_THAT(launched, Catch::Contains("ExecStart=/usr/bin/huddle-fetch --exec-environment"));
    CHECK_THAT(launched, Catch::Contains("Environment=\"HUDDLE_ARGV_1=$X\""));
    CHECK_THAT(text, Catch::Contains("Environment=\"MSG=say \\\"hi\\\"\""));
    CHECK_THAT(text, Catch::Contains("EnvironmentFile=-/var/lib/huddle/web/release.env"));
    CHECK_THAT(text, Catch::Contains("OnUnitActiveSec=1min"));
    CHECK_THAT(text, Catch::Contains("[Timer]"));
    CHECK_THAT(text, Catch::Contains("ConditionPathExists=/var/lib/huddle/web/current"));
    auto j = plan_to_json(p);
    CHECK(j["units"][0]["properties"][0]["signature"] == "s");
}
