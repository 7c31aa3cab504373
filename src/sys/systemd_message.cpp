#include "systemd_message.hpp"

#include "core/overloaded.hpp"

#include <cstring>
#include <type_traits>
#include <variant>

namespace huddle::sys::bus {
namespace {

int append_commands(sd_bus_message* m, const std::vector<ExecCommand>& v) {
    int r = sd_bus_message_open_container(m, 'a', "(sasb)");
    for (const auto& c : v) {
        if (r >= 0) r = sd_bus_message_open_container(m, 'r', "sasb");
        if (r >= 0) r = sd_bus_message_append(m, "s", c.path.c_str());
        if (r >= 0) r = append_strv(m, c.argv);
        if (r >= 0) r = sd_bus_message_append(m, "b", static_cast<int>(c.ignore_failure));
        if (r >= 0) r = sd_bus_message_close_container(m);
    }
    return r >= 0 ? sd_bus_message_close_container(m) : r;
}

int append_conditions(sd_bus_message* m, const std::vector<Condition>& v) {
    int r = sd_bus_message_open_container(m, 'a', "(sbbs)");
    for (const auto& c : v)
        if (r >= 0)
            r = sd_bus_message_append(m, "(sbbs)", c.type.c_str(), static_cast<int>(c.trigger), static_cast<int>(c.negate), c.parameter.c_str());
    return r >= 0 ? sd_bus_message_close_container(m) : r;
}

template <class T>
int append_pairs(sd_bus_message* m, const char* inner, const std::vector<std::pair<std::string, T>>& v) {
    std::string sig = std::string("(") + inner + ")";
    int r = sd_bus_message_open_container(m, 'a', sig.c_str());
    for (const auto& [s, x] : v) {
        if constexpr (std::is_same_v<T, bool>) {
            if (r >= 0) r = sd_bus_message_append(m, sig.c_str(), s.c_str(), static_cast<int>(x));
        } else {
            if (r >= 0) r = sd_bus_message_append(m, sig.c_str(), s.c_str(), x);
        }
    }
    return r >= 0 ? sd_bus_message_close_container(m) : r;
}

int append_value(sd_bus_message* m, const PropertyValue& value) {
    return std::visit(overloaded{
                          [m](const std::string& s) { return sd_bus_message_append(m, "s", s.c_str()); },
                          [m](bool b) { return sd_bus_message_append(m, "b", static_cast<int>(b)); },
                          [m](uint64_t t) { return sd_bus_message_append(m, "t", t); },
                          [m](const std::vector<std::string>& v) { return append_strv(m, v); },
                          [m](const std::vector<ExecCommand>& v) { return append_commands(m, v); },
                          [m](const std::vector<std::pair<std::string, bool>>& v) { return append_pairs(m, "sb", v); },
                          [m](const std::vector<std::pair<std::string, uint64_t>>& v) { return append_pairs(m, "st", v); },
                          [m](const std::vector<Condition>& v) { return append_conditions(m, v); },
                          [m](const NameList& l) {
                              int r = sd_bus_message_open_container(m, 'r', "bas");
                              if (r >= 0) r = sd_bus_message_append(m, "b", static_cast<int>(l.allow));
                              if (r >= 0) r = append_strv(m, l.names);
                              return r >= 0 ? sd_bus_message_close_container(m) : r;
                          },
                      },
                      value);
}

}  // namespace

int append_strv(sd_bus_message* m, const std::vector<std::string>& v) {
    int r = sd_bus_message_open_container(m, 'a', "s");
    for (const auto& s : v)
        if (r >= 0) r = sd_bus_message_append_basic(m, 's', s.c_str());
    return r >= 0 ? sd_bus_message_close_container(m) : r;
}

int append_properties(sd_bus_message* m, const std::vector<Property>& props) {
    int r = sd_bus_message_open_container(m, 'a', "(sv)");
    for (const auto& p : props) {
        if (r >= 0) r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0) r = sd_bus_message_append(m, "s", p.name.c_str());
        if (r >= 0) r = sd_bus_message_open_container(m, 'v', p.signature.c_str());
        // A 32-bit property (a mode, a signal, a scope's one PID) is held as
        // uint64_t in the plan.
        bool narrow = std::holds_alternative<uint64_t>(p.value) && (p.signature == "u" || p.signature == "i" || p.signature == "au");
        uint64_t v = narrow ? std::get<uint64_t>(p.value) : 0;
        if (r >= 0 && narrow && p.signature == "u")
            r = sd_bus_message_append(m, "u", static_cast<uint32_t>(v));
        else if (r >= 0 && narrow && p.signature == "i")
            r = sd_bus_message_append(m, "i", static_cast<int32_t>(v));
        else if (r >= 0 && narrow)
            r = sd_bus_message_append(m, "au", 1, static_cast<uint32_t>(v));
        else if (r >= 0)
            r = append_value(m, p.value);
        if (r >= 0) r = sd_bus_message_close_container(m);
        if (r >= 0) r = sd_bus_message_close_container(m);
    }
    return r >= 0 ? sd_bus_message_close_container(m) : r;
}

Error reply_error(const sd_bus_error& err, const std::string& context) {
    int e = sd_bus_error_get_errno(&err);
    std::string what = std::string(err.name ? err.name : "error") + ": " + (err.message ? err.message : std::strerror(e > 0 ? e : EIO));
    return Error{e > 0 ? -e : -EIO, context.empty() ? what : context + ": " + what};
}

Error call_error(const BusError& err, int r, const std::string& context) {
    if (sd_bus_error_is_set(&*err)) return reply_error(*err, context);
    return errno_error(r, context);
}

BusMessagePtr unit_call(sd_bus* bus, const char* method, const std::string& unit, const char* mode) {
    sd_bus_message* raw = nullptr;
    if (sd_bus_message_new_method_call(bus, &raw, kDest, kPath, kManager, method) < 0) return nullptr;
    BusMessagePtr m(raw);
    int r = mode ? sd_bus_message_append(raw, "ss", unit.c_str(), mode) : sd_bus_message_append(raw, "s", unit.c_str());
    return r < 0 ? nullptr : std::move(m);
}

}  // namespace huddle::sys::bus
