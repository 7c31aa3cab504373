// Building sd-bus messages for systemd's manager, and turning its errors
// into src/sys's Error. Private to the systemd_*.cpp files.
#pragma once
#include <string>
#include <vector>

#include "core/plan.hpp"
#include "error.hpp"
#include "handles.hpp"

namespace huddle::sys::bus {

inline constexpr const char* kDest = "org.freedesktop.systemd1";
inline constexpr const char* kPath = "/org/freedesktop/systemd1";
inline constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
inline constexpr const char* kUnit = "org.freedesktop.systemd1.Unit";
inline constexpr const char* kService = "org.freedesktop.systemd1.Service";

int append_strv(sd_bus_message* m, const std::vector<std::string>& v);
// a(sv): a unit's properties, each in the signature the plan gives it.
int append_properties(sd_bus_message* m, const std::vector<Property>& props);

// A failed call as an Error: the code from the D-Bus error's name (NoReply
// and Timeout are -ETIMEDOUT, Disconnected -ECONNRESET: is_no_answer), or
// from R when the call was never answered at all.
Error call_error(const BusError& err, int r, const std::string& context);
Error reply_error(const sd_bus_error& err, const std::string& context);

// A method call on the manager naming one unit (and a job mode, if MODE).
BusMessagePtr unit_call(sd_bus* bus, const char* method, const std::string& unit, const char* mode);

}  // namespace huddle::sys::bus
