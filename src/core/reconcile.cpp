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
    for (const char* p : {"huddle-fetch@", "huddle-watchdog@", "huddle@"}) {
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
        auto exists = [&](const std::string& name) { return by_name.count(name) > 0; };
        auto same = [&](const UnitPlan& want) {
            auto it = by_name.find(want.name);
            return it != by_name.end() && fingerprint_of_description(it->second->description) == fingerprint_of_description(description_of(want));
        };
        // Units are made and replaced in groups: the app; the poll timer with
        // its service; the watchdog timer with its service.
        const UnitPlan* app = nullptr;
        std::vector<std::vector<const UnitPlan*>> groups;
        for (const auto& u : p.units) {
            if (u.role == UnitRole::app)
                app = &u;
            else if (u.role == UnitRole::timer || u.role == UnitRole::watchdog_timer)
                groups.push_back({&u});
            else
                groups.back().push_back(&u);
        }
        const std::string app_name = app_unit_name(p.app);
        bool app_ok = app ? same(*app) : !exists(app_name);
        // The timers' services refer to the app unit, which keeps a stopped
        // app loaded; an app unit is only unloaded once those are gone.
        bool replace_all = !app_ok && exists(app_name);

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
        std::set<std::string> wanted_names;
        for (const auto& g : groups) {
            bool ok = !replace_all;
            for (const UnitPlan* u : g) {
                ok = ok && same(*u);
                wanted_names.insert(u->name);
            }
            for (const UnitPlan* u : g) {
                if (ok) {
                    r.actions.push_back({Action::keep, u->name, p.app});
                } else {
                    r.actions.push_back({exists(u->name) ? Action::replace : Action::create, u->name, p.app});
                    if (exists(u->name)) stop(u->name);
                }
            }
            if (!ok) start_pollers.push_back({p.app, g[0], std::vector<const UnitPlan*>(g.begin() + 1, g.end())});
        }
        // Units of this app that are no longer planned (a [watchdog] removed).
        for (const LiveUnit* u : by_instance[inst]) {
            if (u->name == app_name || wanted_names.count(u->name)) continue;
            r.actions.push_back({Action::remove, u->name, p.app});
            stop(u->name);
        }
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
