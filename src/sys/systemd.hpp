// systemd's manager over sd-bus: list units, and batches of unit jobs that are
// sent all at once (pipelined) and then waited for together. Errors are
// returned as text naming the unit; the caller logs them once.
#pragma once
#include <systemd/sd-bus.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/duration.hpp"
#include "core/reconcile.hpp"

namespace huddle::sys {

struct BusDeleter {
    void operator()(sd_bus* b) const { sd_bus_flush_close_unref(b); }
};
using BusPtr = std::unique_ptr<sd_bus, BusDeleter>;

struct BusMessageDeleter {
    void operator()(sd_bus_message* m) const { sd_bus_message_unref(m); }
};
using BusMessagePtr = std::unique_ptr<sd_bus_message, BusMessageDeleter>;

struct BusSlotDeleter {
    void operator()(sd_bus_slot* s) const { sd_bus_slot_unref(s); }
};
using BusSlotPtr = std::unique_ptr<sd_bus_slot, BusSlotDeleter>;

struct JobOutcome {
    std::string unit;
    std::string operation;  // "start", "stop", "reset-failed"
    std::string result;     // systemd's job result: done, failed, timeout, canceled, dependency, skipped;
                            // "pending" if still running when run() stopped waiting; "" if no job
    std::string error;      // the call itself failed (D-Bus error name and message)
    bool ok() const { return error.empty() && (result.empty() || result == "done"); }
    // systemd gave no answer in time (a busy PID 1, a lost connection): no
    // verdict on the unit. A job still running when run() stopped waiting too.
    bool unanswered() const {
        for (const char* name : {"org.freedesktop.DBus.Error.NoReply", "org.freedesktop.DBus.Error.Timeout",
                                 "org.freedesktop.DBus.Error.Disconnected", "sending the request failed"})
            if (error.rfind(name, 0) == 0) return true;
        return result == "pending";
    }
};

class Systemd {
public:
    // private_socket: PID 1's own socket, as systemctl uses when run by
    // root: no dbus-daemon in the path (which caps pending replies at 128),
    // and it works before dbus.service starts. For one-off batches.
    // system_bus: through dbus-daemon, for a connection held while an app
    // settles. PID 1 sends every signal of every unit to every private
    // connection, so 1,000 deploys holding one each cost PID 1 a million
    // messages per thousand unit changes; on the bus a client gets only
    // the job signals it asked for. Falls back to the private socket when
    // no system bus is there at all.
    enum class Route { private_socket, system_bus };
    static std::unique_ptr<Systemd> connect(std::string& error, Route route = Route::private_socket);

    int list_units(const std::vector<std::string>& patterns, std::vector<LiveUnit>& out, std::string& error);

    void queue_start_transient(const StartCall& call);
    void queue_stop(const std::string& unit);
    void queue_reset_failed(const std::string& unit);
    void queue_start(const std::string& unit);
    void queue_restart(const std::string& unit);

    // Wait until every queued call has replied and every job it made is
    // finished, or the timeout passes (unfinished ones get result "pending").
    std::vector<JobOutcome> run(usec_t timeout);

    // Wait until none of the units is loaded any more (systemd collects
    // inactive transient units). Returns those still loaded at the timeout.
    std::vector<std::string> wait_unloaded(const std::vector<std::string>& units, usec_t timeout);

    // The unit's D-Bus object path, or "" if it is not loaded; sets *ERROR
    // when systemd gave no answer.
    std::string unit_object(const std::string& unit, std::string* error = nullptr);

    // A numeric property ('t' uint64, 'i' int32 widened); nullopt if the unit is not loaded.
    std::optional<int64_t> unit_number(const std::string& unit, const char* iface, const char* property, char type);

    struct UnitStatus {
        bool loaded = false;
        std::string active_state;  // active, inactive, failed, activating, ...
        std::string invocation;    // changes at every start
        uint32_t n_restarts = 0;
        std::string error;         // systemd did not answer (busy past the call timeout, gone): nothing above is known
    };
    UnitStatus unit_status(const std::string& unit);
    // Start/restart one unit and wait for its job; "" on success, else why not.
    // Sets *UNANSWERED when what failed is systemd's answer (JobOutcome::unanswered).
    std::string start_and_wait(const std::string& unit, bool restart, usec_t timeout, bool* unanswered = nullptr);


private:
    struct Pending {
        Systemd* self;
        JobOutcome outcome;
        bool wants_job = true;
        bool done = false;
    };
    Systemd(BusPtr bus, size_t window, std::string peer, Route route)
        : bus_(std::move(bus)), peer_(std::move(peer)), route_(route), window_(window) {}
    // A connection lost (dbus-daemon restarted, say) is made again before
    // the next call; the call that found it lost has failed already.
    void reopen_if_lost();
    void pump();
    void finish(Pending& p);
    Pending& add(const std::string& unit, const std::string& op);
    void send(BusMessagePtr m, Pending& p);
    static int on_reply(sd_bus_message* m, void* userdata, sd_bus_error* ret_error);
    static int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error* ret_error);

    BusPtr bus_;
    BusSlotPtr job_match_;
    // On the system bus: PID 1's unique name there (signals from anyone
    // else are ignored), the filter that reads its JobRemoved signals, and
    // the units whose job signals the bus was asked to route here.
    std::string peer_;
    BusSlotPtr job_filter_;
    std::set<std::string> matched_units_;
    Route route_;
    static int on_bus_message(sd_bus_message* m, void* userdata, sd_bus_error* ret_error);
    // Calls wait in the outbox until fewer than window_ are in flight.
    size_t window_;
    size_t in_flight_ = 0;
    size_t open_ = 0;  // calls of the current run() not yet finished
    std::deque<std::pair<BusMessagePtr, Pending*>> outbox_;
    std::deque<Pending> pending_;
    std::map<std::string, Pending*> by_job_;
    std::map<std::string, std::string> early_results_;  // JobRemoved seen before the call's reply
};

// The major version of the systemd running as PID 1 (Manager.Version over
// its private socket), or 0 when there is none to ask (not root, no systemd,
// as in a build root): callers then plan for the oldest systemd supported.
int running_systemd_version();

}  // namespace huddle::sys
