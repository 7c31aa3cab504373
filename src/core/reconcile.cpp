#include "reconcile.hpp"

#include <map>

#include "unitname.hpp"

namespace huddle {

const char* action_name(Action a) {
    switch (a) {
    case Action::create: return "create";
    case Action::replace: return "replace";
    case Action::remove: return "remove";
    case Action::keep: return "keep";
    }
    return "?";
}

bool split_unit_name(const std::string& unit, std::string& prefix, std::string& instance, std::string& suffix) {
    for (const char* p : {"huddle-fetch@", "huddle@"}) {
        std::string ps = p;
        if (unit.rfind(ps, 0) != 0) continue;
        for (const char* s : {".service", ".timer"}) {
            std::string ss = s;
            if (unit.size() > ps.size() + ss.size() && unit.compare(unit.size() - ss.size(), ss.size(), ss) == 0) {
                if (ps == "huddle@" && ss == ".timer") return false;
                prefix = ps;
                suffix = ss;
                instance = unit.substr(ps.size(), unit.size() - ps.size() - ss.size());
                return true;
            }
        }
    }
    return false;
}

namespace {
std::string description_of(const UnitPlan& u) {
    for (const auto& p : u.properties)
        if (p.name == "Description") return std::get<std::string>(p.value);
    return "";
}
}  // namespace

Reconciliation reconcile(const std::vector<AppPlan>& desired, const std::set<std::string>& keep_apps, const std::vector<LiveUnit>& live) {
    Reconciliation r;
    std::map<std::string, const LiveUnit*> by_name;
    std::map<std::string, std::vector<const LiveUnit*>> by_instance;
    for (const auto& u : live) {
        std::string p, inst, s;
        // Only huddle's own units: right name and our plan marker.
        if (!split_unit_name(u.name, p, inst, s) || fingerprint_of_description(u.description).empty()) continue;
        by_name[u.name] = &u;
        by_instance[inst].push_back(&u);
    }
    std::set<std::string> handled;
    std::vector<std::string> stop_timers, stop_services;
    auto stop = [&](const std::string& unit) {
        (unit.size() > 6 && unit.compare(unit.size() - 6, 6, ".timer") == 0 ? stop_timers : stop_services).push_back(unit);
    };
    std::vector<StartCall> start_apps, start_pollers;

    for (const auto& p : desired) {
        std::string inst = unit_name_escape(p.app);
        handled.insert(inst);
        const UnitPlan* app = nullptr;
        const UnitPlan* timer = nullptr;
        const UnitPlan* fetch = nullptr;
        for (const auto& u : p.units) (u.role == UnitRole::app ? app : u.role == UnitRole::timer ? timer : fetch) = &u;
        auto same = [&](const UnitPlan* want, const std::string& name) {
            auto it = by_name.find(name);
            if (!want || it == by_name.end()) return false;
            // The planner stamped the fingerprint into the wanted Description.
            return fingerprint_of_description(it->second->description) == fingerprint_of_description(description_of(*want));
        };
        auto exists = [&](const std::string& name) { return by_name.count(name) > 0; };

        const std::string app_name = app_unit_name(p.app);
        bool app_ok = app ? same(app, app_name) : !exists(app_name);
        bool poller_ok = same(timer, timer_unit_name(p.app)) && same(fetch, fetch_unit_name(p.app));
        // The fetch unit refers to the app unit, which keeps a stopped app
        // loaded; an app unit is only unloaded once that reference is gone.
        if (!app_ok && exists(app_name)) poller_ok = false;

        if (app_ok) {
            if (app) r.actions.push_back({Action::keep, app_name, p.app});
        } else if (app) {
            r.actions.push_back({exists(app_name) ? Action::replace : Action::create, app_name, p.app});
            if (exists(app_name)) stop(app_name);
            start_apps.push_back({p.app, app, {}});
        } else {
            r.actions.push_back({Action::remove, app_name, p.app});
            stop(app_name);
        }
        for (const UnitPlan* u : {timer, fetch}) {
            if (poller_ok)
                r.actions.push_back({Action::keep, u->name, p.app});
            else {
                r.actions.push_back({exists(u->name) ? Action::replace : Action::create, u->name, p.app});
                if (exists(u->name)) stop(u->name);
            }
        }
        if (!poller_ok) start_pollers.push_back({p.app, timer, {fetch}});
    }

    for (const auto& [inst, units] : by_instance) {
        if (handled.count(inst)) continue;
        bool kept = false;
        for (const auto& k : keep_apps)
            if (unit_name_escape(k) == inst) kept = true;
        for (const LiveUnit* u : units) {
            r.actions.push_back({kept ? Action::keep : Action::remove, u->name, inst});
            if (!kept) stop(u->name);
        }
    }
    r.stop = stop_timers;
    r.stop.insert(r.stop.end(), stop_services.begin(), stop_services.end());
    // Pollers first: the fetch unit's reference must exist before an app unit
    // is made, or systemd collects the app unit as soon as its condition
    // (no release yet) leaves it inactive.
    r.start = start_pollers;
    r.start.insert(r.start.end(), start_apps.begin(), start_apps.end());
    return r;
}

}  // namespace huddle
