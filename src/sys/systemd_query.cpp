// Questions to systemd about units: which are loaded, and one unit's state.
#include <time.h>

#include <cstdlib>
#include <cstring>

#include "clock.hpp"
#include "systemd.hpp"
#include "systemd_message.hpp"

namespace huddle::sys {

Result<std::vector<LiveUnit>> Systemd::list_units(const std::vector<std::string>& patterns) {
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_call(bus_.get(), &raw, bus::kDest, bus::kPath, bus::kManager, "ListUnitsByPatterns");
    BusMessagePtr m(raw);
    if (r >= 0) r = bus::append_strv(raw, {});
    if (r >= 0) r = bus::append_strv(raw, patterns);
    BusError err;
    sd_bus_message* reply_raw = nullptr;
    if (r >= 0) r = sd_bus_call(bus_.get(), raw, 0, err.get(), &reply_raw);
    BusMessagePtr reply(reply_raw);
    if (r < 0) return bus::call_error(err, r, "listing units failed");
    r = sd_bus_message_enter_container(reply_raw, 'a', "(ssssssouso)");
    if (r < 0) return errno_error(r, "listing units: unexpected reply");
    std::vector<LiveUnit> out;
    const char *name, *desc, *load, *active, *sub, *following, *job_type, *unit_path, *job_path;
    uint32_t job_id;
    while ((r = sd_bus_message_read(reply_raw, "(ssssssouso)", &name, &desc, &load, &active, &sub, &following, &unit_path, &job_id, &job_type,
                                    &job_path)) > 0) {
        if (std::strcmp(load, "not-found") == 0) continue;
        out.push_back({name, desc, active});
    }
    if (r < 0) return errno_error(r, "listing units: unexpected reply");
    return out;
}

std::vector<std::string> Systemd::wait_unloaded(const std::vector<std::string>& units, usec_t timeout) {
    usec_t deadline = monotonic_usec() + timeout;
    std::vector<std::string> left = units;
    while (!left.empty()) {
        // Patterns are fnmatch globs: "\x2d" in an escaped name must stay literal.
        std::vector<std::string> patterns;
        for (const auto& u : left) {
            std::string g;
            for (char c : u) {
                if (c == '\\' || c == '*' || c == '?' || c == '[') g += '\\';
                g += c;
            }
            patterns.push_back(g);
        }
        auto live = list_units(patterns);
        if (!live) break;
        left.clear();
        for (const auto& u : *live) left.push_back(u.name);
        if (left.empty() || monotonic_usec() >= deadline) break;
        // Collection happens in PID 1's next loop iteration; a short nap is enough.
        struct timespec ts {0, 2 * 1000 * 1000};
        nanosleep(&ts, nullptr);
    }
    return left;
}

Result<std::string> Systemd::unit_object(const std::string& unit) {
    reopen_if_lost();
    BusError err;
    sd_bus_message* reply = nullptr;
    int r = sd_bus_call_method(bus_.get(), bus::kDest, bus::kPath, bus::kManager, "GetUnit", err.get(), &reply, "s", unit.c_str());
    BusMessagePtr rp(reply);
    // Not loaded is an answer; a timeout or a lost connection is not.
    if (r < 0 && err.has_name("org.freedesktop.systemd1.NoSuchUnit")) return Error{-ENOENT, unit + " is not loaded"};
    if (r < 0) return bus::call_error(err, r, "asking systemd about " + unit);
    const char* path = nullptr;
    if (sd_bus_message_read(reply, "o", &path) < 0 || !path) return Error{-EBADMSG, "asking systemd about " + unit + ": unexpected reply"};
    return std::string(path);
}

namespace {

Result<std::string> string_property(sd_bus* bus, const std::string& object, const char* iface, const char* name, const std::string& unit) {
    BusError err;
    char* raw = nullptr;
    int r = sd_bus_get_property_string(bus, bus::kDest, object.c_str(), iface, name, err.get(), &raw);
    std::unique_ptr<char, FreeWith<std::free>> value(raw);
    if (r < 0) return bus::call_error(err, r, "reading " + std::string(name) + " of " + unit);
    return std::string(raw ? raw : "");
}

Result<std::string> invocation_id(sd_bus* bus, const std::string& object, const std::string& unit) {
    BusError err;
    sd_bus_message* m = nullptr;
    int r = sd_bus_get_property(bus, bus::kDest, object.c_str(), bus::kUnit, "InvocationID", err.get(), &m, "ay");
    BusMessagePtr mp(m);
    if (r < 0) return bus::call_error(err, r, "reading InvocationID of " + unit);
    const void* bytes = nullptr;
    size_t n = 0;
    std::string hex;
    if (sd_bus_message_read_array(m, 'y', &bytes, &n) >= 0)
        for (size_t i = 0; i < n; ++i) {
            static const char* digits = "0123456789abcdef";
            unsigned char b = static_cast<const unsigned char*>(bytes)[i];
            hex += digits[b >> 4];
            hex += digits[b & 15];
        }
    return hex;
}

}  // namespace

Result<UnitStatus> Systemd::unit_status(const std::string& unit) {
    UnitStatus st;
    auto object = unit_object(unit);
    if (!object && object.code() == -ENOENT) return st;
    if (!object) return object.error();
    // A unit only referenced by another is listed, but "not-found".
    auto load = string_property(bus_.get(), *object, bus::kUnit, "LoadState", unit);
    if (!load) return load.error();
    st.loaded = *load == "loaded";
    if (!st.loaded) return st;
    auto active = string_property(bus_.get(), *object, bus::kUnit, "ActiveState", unit);
    if (!active) return active.error();
    st.active_state = *active;
    auto invocation = invocation_id(bus_.get(), *object, unit);
    if (!invocation) return invocation.error();
    st.invocation = *invocation;
    BusError err;
    int r = sd_bus_get_property_trivial(bus_.get(), bus::kDest, object->c_str(), bus::kService, "NRestarts", err.get(), 'u', &st.n_restarts);
    if (r < 0) return bus::call_error(err, r, "reading NRestarts of " + unit);
    return st;
}

Result<int64_t> Systemd::unit_number(const std::string& unit, const char* iface, const char* property, char type) {
    auto object = unit_object(unit);
    if (!object) return object.error();
    BusError err;
    int r;
    int64_t out = 0;
    if (type == 't') {
        uint64_t v = 0;
        r = sd_bus_get_property_trivial(bus_.get(), bus::kDest, object->c_str(), iface, property, err.get(), 't', &v);
        out = static_cast<int64_t>(v);
    } else {
        int32_t v = 0;
        r = sd_bus_get_property_trivial(bus_.get(), bus::kDest, object->c_str(), iface, property, err.get(), 'i', &v);
        out = v;
    }
    if (r < 0) return bus::call_error(err, r, "reading " + std::string(property) + " of " + unit);
    return out;
}

}  // namespace huddle::sys
