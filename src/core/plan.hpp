// The unit plan: for one app, the transient units huddle-gen creates, each
// property typed exactly as StartTransientUnit takes it (name + D-Bus
// signature + value). Pure; the renderer and the bus client both read it.
#pragma once
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "config.hpp"

namespace huddle {

// CLONE_NEWTIME (linux/sched.h), the one namespace type the fetch unit may
// make; see sandbox() in plan.cpp.
inline constexpr uint64_t kCloneNewTime = 0x80;

struct ExecCommand {
    std::string path;
    std::vector<std::string> argv;
    bool ignore_failure = false;
};

// RestrictAddressFamilies=, SystemCallFilter=: an allow list, or (allow =
// false) a deny list.
struct NameList {
    bool allow = true;
    std::vector<std::string> names;
};

struct Condition {
    std::string type;  // "ConditionPathExists"
    bool trigger = false;
    bool negate = false;
    std::string parameter;
};

using PropertyValue = std::variant<std::string,                                      // s
                                   bool,                                             // b
                                   uint64_t,                                         // t
                                   std::vector<std::string>,                         // as
                                   std::vector<ExecCommand>,                         // a(sasb)
                                   std::vector<std::pair<std::string, bool>>,        // a(sb)
                                   std::vector<std::pair<std::string, uint64_t>>,    // a(st)
                                   std::vector<Condition>,                           // a(sbbs)
                                   NameList>;                                        // (bas)

struct Property {
    std::string name;       // D-Bus property name, e.g. "ExecStart"
    std::string signature;  // D-Bus signature, e.g. "a(sasb)"
    PropertyValue value;
};

enum class UnitRole { app, timer, fetch, watchdog_timer, watchdog };

struct UnitPlan {
    std::string name;  // e.g. "huddle@web.service"
    UnitRole role;
    std::vector<Property> properties;
};

struct AppPlan {
    std::string app;
    std::string file;
    std::vector<UnitPlan> units;  // app service (with [application]), poll timer, fetch service, watchdog timer and service (with [watchdog] and [application])
};

// Facts about the machine the plan is for. Kept out of the config so the
// planner stays a pure function of its inputs.
struct PlanContext {
    std::string fetch_binary = "/usr/bin/huddle-fetch";
    std::vector<std::string> config_dirs;  // passed to huddle-fetch as -c DIR when not the default search path
    std::string machine_id;                // spreads the first poll across a fleet
    usec_t poll_floor = 0;                 // from the poll budget (pollbudget.hpp); 0: every app polls as configured
};

AppPlan plan_app(const AppConfig& c, const PlanContext& ctx);

std::string app_unit_name(const std::string& app);
std::string timer_unit_name(const std::string& app);
std::string fetch_unit_name(const std::string& app);
std::string watchdog_timer_unit_name(const std::string& app);
std::string watchdog_unit_name(const std::string& app);
const char* role_name(UnitRole r);

// First poll delay: 1s plus a per-machine, per-app offset within
// min(minimum, 60s), so machines booted together do not poll together; within
// the poll floor when there is one, so a slowed fleet's first polls also fit
// the budget.
usec_t first_poll_delay(const std::string& machine_id, const std::string& app, usec_t minimum, usec_t poll_floor = 0);

// A digest of every property but Description. The planner appends it to the
// Description as " [plan HEX]": systemd lists descriptions of all units in one
// call, so huddle-gen sees which units changed without reading properties, and
// the marker tells huddle's units from any others.
std::string unit_fingerprint(const UnitPlan& u);
void stamp_fingerprint(UnitPlan& u);
std::string fingerprint_of_description(const std::string& description);  // "" if none

// Fetch service start timeout: the network phase plus every bounded step of a
// deploy and of a rollback.
usec_t fetch_timeout(const AppConfig& c);

}  // namespace huddle
