#include "reconcile.hpp"

#include <map>
#include <string_view>

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
    for (std::string_view ps : {kFetchUnitPrefix, kWatchdogUnitPrefix, kAppUnitPrefix}) {
        if (unit.rfind(ps, 0) != 0) continue;
        for (std::string_view ss : {kServiceSuffix, kTimerSuffix}) {
            if (unit.size() > ps.size() + ss.size() && unit.compare(unit.size() - ss.size(), ss.size(), ss) == 0) {
                if (ps == kAppUnitPrefix && ss == kTimerSuffix) return false;
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

// An app's planned units as they are made and replaced: the app unit alone;
// the poll timer with its service; the watchdog timer with its service.
struct UnitGroups {
    const UnitPlan* app = nullptr;
    std::vector<std::vector<const UnitPlan*>> timers;  // each: the timer, then its service
};

UnitGroups group_units(const AppPlan& p) {
    UnitGroups g;
    for (const auto& u : p.units) {
        if (u.role == UnitRole::app)
            g.app = &u;
        else if (u.role == UnitRole::timer || u.role == UnitRole::watchdog_timer)
            g.timers.push_back({&u});
        else
            g.timers.back().push_back(&u);
    }
    return g;
}

class Reconciler {
public:
    explicit Reconciler(const std::vector<LiveUnit>& live);
    void app(const AppPlan& p);
    void unplanned(const std::set<std::string>& keep_apps);
    Reconciliation finish();

private:
    bool exists(const std::string& name) const { return by_name_.count(name) > 0; }
    bool same(const UnitPlan& want) const {
        auto it = by_name_.find(want.name);
        return it != by_name_.end() && fingerprint_of_description(it->second->description) == fingerprint_of_description(description_of(want));
    }
    void stop(const std::string& unit) {
        (unit.size() > 6 && unit.compare(unit.size() - 6, 6, ".timer") == 0 ? stop_timers_ : stop_services_).push_back(unit);
    }
    bool app_unit(const AppPlan& p, const UnitPlan* app);
    void timer_group(const AppPlan& p, const std::vector<const UnitPlan*>& g, bool replace, std::set<std::string>& wanted);

    Reconciliation r_;
    std::map<std::string, const LiveUnit*> by_name_;
    std::map<std::string, std::vector<const LiveUnit*>> by_instance_;
    std::set<std::string> handled_;  // instances of the desired apps
    std::vector<std::string> stop_timers_, stop_services_;
    std::vector<StartCall> start_apps_, start_pollers_;
};

Reconciler::Reconciler(const std::vector<LiveUnit>& live) {
    for (const auto& u : live) {
        std::string p, inst, s;
        // Only huddle's own units: right name and our plan marker.
        if (!split_unit_name(u.name, p, inst, s) || fingerprint_of_description(u.description).empty()) continue;
        by_name_[u.name] = &u;
        by_instance_[inst].push_back(&u);
    }
}

// The app unit: kept, made, replaced or removed. Returns whether it is kept
// as it is (or, with no [application], is absent as it should be).
bool Reconciler::app_unit(const AppPlan& p, const UnitPlan* app) {
    const std::string name = app_unit_name(p.app);
    bool ok = app ? same(*app) : !exists(name);
    if (ok) {
        if (app) r_.actions.push_back({Action::keep, name, p.app});
    } else if (app) {
        r_.actions.push_back({exists(name) ? Action::replace : Action::create, name, p.app});
        if (exists(name)) stop(name);
        start_apps_.push_back({p.app, app, {}});
    } else {
        r_.actions.push_back({Action::remove, name, p.app});
        stop(name);
    }
    return ok;
}

// A timer and its service, kept together or made together; `replace`: made
// again whether they changed or not.
void Reconciler::timer_group(const AppPlan& p, const std::vector<const UnitPlan*>& g, bool replace, std::set<std::string>& wanted) {
    bool ok = !replace;
    for (const UnitPlan* u : g) {
        ok = ok && same(*u);
        wanted.insert(u->name);
    }
    for (const UnitPlan* u : g) {
        if (ok) {
            r_.actions.push_back({Action::keep, u->name, p.app});
        } else {
            r_.actions.push_back({exists(u->name) ? Action::replace : Action::create, u->name, p.app});
            if (exists(u->name)) stop(u->name);
        }
    }
    if (!ok) start_pollers_.push_back({p.app, g[0], std::vector<const UnitPlan*>(g.begin() + 1, g.end())});
}

void Reconciler::app(const AppPlan& p) {
    std::string inst = unit_name_escape(p.app);
    handled_.insert(inst);
    UnitGroups groups = group_units(p);
    const std::string app_name = app_unit_name(p.app);
    bool app_ok = app_unit(p, groups.app);
    // The timers' services refer to the app unit, which keeps a stopped
    // app loaded; an app unit is only unloaded once those are gone.
    bool replace_all = !app_ok && exists(app_name);
    std::set<std::string> wanted;
    for (const auto& g : groups.timers) timer_group(p, g, replace_all, wanted);
    // Units of this app that are no longer planned (a [watchdog] removed).
    for (const LiveUnit* u : by_instance_[inst]) {
        if (u->name == app_name || wanted.count(u->name)) continue;
        r_.actions.push_back({Action::remove, u->name, p.app});
        stop(u->name);
    }
}

// Units of apps with no plan: kept if the app's config is there but invalid,
// else removed.
void Reconciler::unplanned(const std::set<std::string>& keep_apps) {
    for (const auto& [inst, units] : by_instance_) {
        if (handled_.count(inst)) continue;
        bool kept = false;
        for (const auto& k : keep_apps)
            if (unit_name_escape(k) == inst) kept = true;
        for (const LiveUnit* u : units) {
            r_.actions.push_back({kept ? Action::keep : Action::remove, u->name, inst});
            if (!kept) stop(u->name);
        }
    }
}

Reconciliation Reconciler::finish() {
    r_.stop = stop_timers_;
    r_.stop.insert(r_.stop.end(), stop_services_.begin(), stop_services_.end());
    // Pollers first: the fetch unit's reference must exist before an app unit
    // is made, or systemd collects the app unit as soon as its condition
    // (no release yet) leaves it inactive.
    r_.start = start_pollers_;
    r_.start.insert(r_.start.end(), start_apps_.begin(), start_apps_.end());
    return std::move(r_);
}

}  // namespace

Reconciliation reconcile(const std::vector<AppPlan>& desired, const std::set<std::string>& keep_apps, const std::vector<LiveUnit>& live) {
    Reconciler rc(live);
    for (const auto& p : desired) rc.app(p);
    rc.unplanned(keep_apps);
    return rc.finish();
}

}  // namespace huddle
