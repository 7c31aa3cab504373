// Reconciliation: from the units systemd has and the units the configs want,
// the actions that make them match. Pure; src/sys carries them out.
#pragma once
#include <set>
#include <string>
#include <vector>

#include "plan.hpp"

namespace huddle {

struct LiveUnit {
    std::string name;
    std::string description;
    std::string active_state;
};

enum class Action { create, replace, remove, keep };
const char* action_name(Action a);

struct UnitAction {
    Action action;
    std::string unit;
    std::string app;  // app name if known, else the escaped instance
};

// One StartTransientUnit call: a unit and the auxiliary units made with it
// (the timer carries its fetch service, as systemd-run does).
struct StartCall {
    std::string app;
    const UnitPlan* unit;
    std::vector<const UnitPlan*> aux;
};

struct Reconciliation {
    std::vector<UnitAction> actions;  // one per unit, for reporting
    std::vector<std::string> stop;    // units to stop and wait to be unloaded, timers first
    std::vector<StartCall> start;     // pollers before app units (their fetch unit keeps the app unit loaded)
};

// desired: plans of every valid app. keep_apps: apps whose config exists but
// is invalid; their units are left exactly as they are.
Reconciliation reconcile(const std::vector<AppPlan>& desired, const std::set<std::string>& keep_apps, const std::vector<LiveUnit>& live);

// "huddle@my\x2dapp.service" -> {"huddle@", "my\x2dapp", ".service"}; false if not huddle's naming.
bool split_unit_name(const std::string& unit, std::string& prefix, std::string& instance, std::string& suffix);

}  // namespace huddle
