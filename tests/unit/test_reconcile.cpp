#include "catch.hpp"

#include <map>

#include "core/reconcile.hpp"

using namespace huddle;

namespace {
AppPlan plan(const std::string& name, const std::string& toml) {
    auto r = load_config(name, name + ".toml", Format::toml, toml);
    REQUIRE(r.config);
    PlanContext ctx;
    ctx.machine_id = "m";
    return plan_app(*r.config, ctx);
}

const std::string kApp = "[repository]\nremote_path = \"/r\"\n[application]\nstart = \"/bin/app\"\n";

// What systemd would list after creating exactly these plans.
std::vector<LiveUnit> live_from(const std::vector<AppPlan>& plans) {
    std::vector<LiveUnit> out;
    for (const auto& p : plans)
        for (const auto& u : p.units)
            for (const auto& pr : u.properties)
                if (pr.name == "Description") out.push_back({u.name, std::get<std::string>(pr.value), "active"});
    return out;
}

std::map<std::string, Action> actions(const Reconciliation& r) {
    std::map<std::string, Action> m;
    for (const auto& a : r.actions) m[a.unit] = a.action;
    return m;
}
}  // namespace

TEST_CASE("reconcile: nothing live, everything is created; pollers before apps") {
    std::vector<AppPlan> want = {plan("web", kApp)};
    Reconciliation r = reconcile(want, {}, {});
    auto a = actions(r);
    CHECK(a["huddle@web.service"] == Action::create);
    CHECK(a["huddle-fetch@web.timer"] == Action::create);
    CHECK(a["huddle-fetch@web.service"] == Action::create);
    CHECK(r.stop.empty());
    REQUIRE(r.start.size() == 2);
    CHECK(r.start[0].unit->name == "huddle-fetch@web.timer");
    REQUIRE(r.start[0].aux.size() == 1);
    CHECK(r.start[0].aux[0]->name == "huddle-fetch@web.service");
    CHECK(r.start[1].unit->name == "huddle@web.service");
}

TEST_CASE("reconcile: unchanged plans touch nothing") {
    std::vector<AppPlan> want = {plan("web", kApp), plan("api", kApp)};
    Reconciliation r = reconcile(want, {}, live_from(want));
    CHECK(r.stop.empty());
    CHECK(r.start.empty());
    for (const auto& x : r.actions) CHECK(x.action == Action::keep);
    CHECK(r.actions.size() == 6);
}

TEST_CASE("reconcile: a timing change replaces the poller only") {
    std::vector<AppPlan> before = {plan("web", kApp)};
    std::vector<AppPlan> after = {plan("web", kApp + "[timing]\nminimum = 30\n")};
    Reconciliation r = reconcile(after, {}, live_from(before));
    auto a = actions(r);
    CHECK(a["huddle@web.service"] == Action::keep);
    CHECK(a["huddle-fetch@web.timer"] == Action::replace);
    CHECK(a["huddle-fetch@web.service"] == Action::replace);
    CHECK(r.stop == std::vector<std::string>{"huddle-fetch@web.timer", "huddle-fetch@web.service"});
}

TEST_CASE("reconcile: an app change replaces the app and the poller that refers to it") {
    std::vector<AppPlan> before = {plan("web", kApp)};
    std::vector<AppPlan> after = {plan("web", "[repository]\nremote_path = \"/r\"\n[application]\nstart = \"/bin/other\"\n")};
    Reconciliation r = reconcile(after, {}, live_from(before));
    auto a = actions(r);
    CHECK(a["huddle@web.service"] == Action::replace);
    CHECK(a["huddle-fetch@web.timer"] == Action::replace);
    // Timers stop first, so nothing triggers a service being stopped.
    CHECK(r.stop.front() == "huddle-fetch@web.timer");
    CHECK(r.start.size() == 2);
}

TEST_CASE("reconcile: removing [application] removes the app unit") {
    std::vector<AppPlan> before = {plan("web", kApp)};
    std::vector<AppPlan> after = {plan("web", "[repository]\nremote_path = \"/r\"\n")};
    auto a = actions(reconcile(after, {}, live_from(before)));
    CHECK(a["huddle@web.service"] == Action::remove);
}

TEST_CASE("reconcile: gone configs are removed, invalid ones kept, foreign units ignored") {
    std::vector<AppPlan> before = {plan("web", kApp), plan("api", kApp), plan("broken", kApp)};
    std::vector<LiveUnit> live = live_from(before);
    live.push_back({"huddle@handmade.service", "made by hand", "active"});     // no plan marker: not ours
    live.push_back({"other@web.service", "x [plan 0123456789abcdef]", "active"});  // not huddle's name
    Reconciliation r = reconcile({before[0]}, {"broken"}, live);
    auto a = actions(r);
    CHECK(a["huddle@web.service"] == Action::keep);
    CHECK(a["huddle@api.service"] == Action::remove);
    CHECK(a["huddle-fetch@api.timer"] == Action::remove);
    CHECK(a["huddle@broken.service"] == Action::keep);
    CHECK(a["huddle-fetch@broken.timer"] == Action::keep);
    CHECK(a.count("huddle@handmade.service") == 0);
    CHECK(a.count("other@web.service") == 0);
    CHECK(r.start.empty());
}

TEST_CASE("reconcile: escaped names map back to their app") {
    std::vector<AppPlan> want = {plan("my-app", kApp)};
    Reconciliation r = reconcile(want, {}, live_from(want));
    for (const auto& x : r.actions) CHECK(x.action == Action::keep);
    auto gone = reconcile({}, {}, live_from(want));
    CHECK(gone.stop.size() == 3);
    std::string p, i, s;
    REQUIRE(split_unit_name("huddle-fetch@my\\x2dapp.timer", p, i, s));
    CHECK(p == "huddle-fetch@");
    CHECK(i == "my\\x2dapp");
    CHECK(s == ".timer");
    CHECK_FALSE(split_unit_name("huddle@x.timer", p, i, s));
}

TEST_CASE("plan: the fingerprint covers every property but Description") {
    AppPlan a = plan("web", kApp);
    AppPlan b = plan("web", kApp + "[timing]\nminimum = 30\n");
    CHECK(unit_fingerprint(a.units[0]) == unit_fingerprint(b.units[0]));  // app unit: same
    CHECK(unit_fingerprint(a.units[1]) != unit_fingerprint(b.units[1]));  // timer: differs
    CHECK(fingerprint_of_description("huddle app web [plan 0123456789abcdef]") == "0123456789abcdef");
    CHECK(fingerprint_of_description("huddle app web").empty());
    CHECK(fingerprint_of_description("x [plan 123]").empty());
}

TEST_CASE("reconcile: [watchdog] adds a timer and service; removing it removes them") {
    const std::string wd = kApp + "[watchdog]\nperiod = 10\nport = 80\n";
    std::vector<AppPlan> with = {plan("web", wd)};
    REQUIRE(with[0].units.size() == 5);
    CHECK(with[0].units[3].name == "huddle-watchdog@web.timer");
    CHECK(with[0].units[4].name == "huddle-watchdog@web.service");
    Reconciliation add = reconcile(with, {}, live_from({plan("web", kApp)}));
    auto a = actions(add);
    CHECK(a["huddle@web.service"] == Action::keep);
    CHECK(a["huddle-fetch@web.timer"] == Action::keep);
    CHECK(a["huddle-watchdog@web.timer"] == Action::create);
    REQUIRE(add.start.size() == 1);
    CHECK(add.start[0].aux[0]->name == "huddle-watchdog@web.service");
    Reconciliation drop = reconcile({plan("web", kApp)}, {}, live_from(with));
    auto d = actions(drop);
    CHECK(d["huddle-watchdog@web.timer"] == Action::remove);
    CHECK(d["huddle-watchdog@web.service"] == Action::remove);
    CHECK(d["huddle@web.service"] == Action::keep);
}
