// Connecting to systemd: over the system bus or PID 1's private socket.
#include "systemd.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "systemd_message.hpp"

namespace huddle::sys {
namespace {

constexpr const char* kPrivateSocket = "unix:path=/run/systemd/private";
// Calls in flight at once: enough to keep PID 1 busy, bounded so a huge
// reconcile does not queue thousands of messages in the socket at once.
constexpr size_t kWindow = 1024;

// PID 1's unique name on the bus; "" when it has not joined the bus (yet).
Result<std::string> bus_owner(sd_bus* bus) {
    BusError err;
    sd_bus_message* reply = nullptr;
    int r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner", err.get(),
                               &reply, "s", bus::kDest);
    BusMessagePtr rp(reply);
    if (r < 0 && err.has_name("org.freedesktop.DBus.Error.NameHasNoOwner")) return std::string();
    if (r < 0) return bus::call_error(err, r, "cannot reach systemd on the system bus");
    const char* name = nullptr;
    if (sd_bus_message_read(reply, "s", &name) < 0 || !name) return Error{-EBADMSG, "unexpected reply to GetNameOwner"};
    return std::string(name);
}

Result<BusPtr> open_private_socket() {
    sd_bus* raw = nullptr;
    int r = sd_bus_new(&raw);
    BusPtr bus(raw);
    if (r >= 0) r = sd_bus_set_address(raw, kPrivateSocket);
    if (r >= 0) r = sd_bus_start(raw);
    if (r < 0) return errno_error(r, "cannot connect to systemd at /run/systemd/private (is systemd running as PID 1?)");
    return bus;
}

}  // namespace

Result<std::unique_ptr<Systemd>> Systemd::connect(Route route, usec_t call_timeout) {
    if (::geteuid() != 0) return Error{-EPERM, "must run as root: it creates system units"};
    if (route == Route::system_bus) {
        sd_bus* raw = nullptr;
        int r = sd_bus_open_system(&raw);
        BusPtr bus(raw);
        if (r >= 0) r = sd_bus_set_method_call_timeout(raw, call_timeout);
        const char* unique = nullptr;
        if (r >= 0) r = sd_bus_get_unique_name(raw, &unique);  // waits for the bus's Hello
        if (r >= 0) {
            auto owner = bus_owner(raw);
            if (!owner) return owner.error();
            if (!owner->empty()) return std::unique_ptr<Systemd>(new Systemd(std::move(bus), kWindow, *owner, route, call_timeout));
            // PID 1 joins the bus only after dbus.service is up: early in boot, the private socket.
        } else if (r != -ENOENT && r != -ECONNREFUSED) {
            // A bus that is there but refuses (its per-user connection
            // limit) is an error: falling back would bring back what the
            // bus avoids. No dbus-daemon at all: the private socket.
            return errno_error(r, "cannot connect to the system bus (is dbus.service running?)");
        }
    }
    auto bus = open_private_socket();
    if (!bus) return bus.error();
    // sd-bus's own call timeout (25 s) here: huddle-gen's batches time their jobs themselves.
    return std::unique_ptr<Systemd>(new Systemd(std::move(*bus), kWindow, "", route, call_timeout));
}

void Systemd::reopen_if_lost() {
    if (sd_bus_is_open(bus_.get()) > 0 || !pending_.empty()) return;
    auto fresh = connect(route_, call_timeout_);
    if (!fresh) return;  // the next call fails and says so
    job_match_.reset();
    job_filter_.reset();
    matched_units_.clear();
    bus_ = std::move((*fresh)->bus_);
    peer_ = (*fresh)->peer_;
}

}  // namespace huddle::sys
