// systemd's manager over sd-bus: list units, query one, and batches of unit
// jobs that are sent all at once (pipelined) and then waited for together.
// Errors carry the unit's name; the caller logs them once.
#pragma once
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/duration.hpp"
#include "core/reconcile.hpp"
#include "error.hpp"
#include "handles.hpp"

namespace huddle::sys {

struct UnitStatus {
    bool loaded = false;
    std::string active_state;  // active, inactive, failed, activating, ...
    std::string invocation;    // changes at every start
    uint32_t n_restarts = 0;
};

// What the deploy cycle asks of systemd about one unit; tests give it a fake.
// An error whose code is_no_answer() means systemd did not answer (busy past
// the call timeout, connection lost): nothing is known about the unit.
class UnitManager {
public:
    virtual ~UnitManager() = default;
    // A unit that is not loaded is an answer (loaded = false), not an error.
    virtual Result<UnitStatus> unit_status(const std::string& unit) = 0;
    // Start (or restart) the unit and wait for its job.
    virtual Status start_and_wait(const std::string& unit, bool restart, usec_t timeout) = 0;
    virtual Status stop_and_wait(const std::string& unit, usec_t timeout) = 0;
    // Forget a failed unit's failure and start-limit count.
    virtual Status reset_failed(const std::string& unit) = 0;
};

// A job's end as systemd's bus_wait_for_jobs maps it: done and skipped are
// 0; canceled -ECANCELED, timeout -ETIME, dependency -EIO, invalid -ENOEXEC,
// assert -EPROTO, unsupported -EOPNOTSUPP, once -ESTALE, anything else
// (failed) -EIO; "pending" (still running when the wait ended) -ETIMEDOUT.
int job_result_code(const std::string& result);

struct JobOutcome {
    std::string unit;
    std::string operation;  // "start", "stop", "restart", "reset-failed"
    std::string result;     // systemd's word for the job's end; "pending"; "" when no job
    Status status;          // the call failed, or the job did not end "done"
    bool ok() const { return status.ok(); }
    bool pending() const { return result == "pending"; }
};

class Systemd final : public UnitManager {
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
    // A PID 1 busy with a thousand unit starts a second answered in a
    // minute rather than sd-bus's 25 s (soak): 90 s by default.
    static constexpr usec_t kDefaultCallTimeout = 90 * kUsecPerSec;
    static Result<std::unique_ptr<Systemd>> connect(Route route = Route::private_socket, usec_t call_timeout = kDefaultCallTimeout);

    Result<std::vector<LiveUnit>> list_units(const std::vector<std::string>& patterns);

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

    // Stop the units, reset their failure (a failed unit stays loaded until
    // then) and wait until systemd has unloaded them: the whole sequence a
    // unit that goes away or is replaced needs. Outcomes of the stops, and
    // the units still loaded at the end.
    struct Removal {
        std::vector<JobOutcome> stops;
        std::vector<std::string> still_loaded;
    };
    static constexpr usec_t kStopWait = 5 * 60 * kUsecPerSec;
    static constexpr usec_t kUnloadWait = 30 * kUsecPerSec;
    Removal remove_units(const std::vector<std::string>& units);
    // Start transient units in one batch and wait for their jobs at most
    // `timeout` (the jobs still running then come back "pending").
    std::vector<JobOutcome> start_transients(const std::vector<StartCall>& calls, usec_t timeout);

    // The unit's D-Bus object path; -ENOENT when it is not loaded.
    Result<std::string> unit_object(const std::string& unit);
    // A numeric property ('t' uint64, 'i' int32 widened); -ENOENT when not loaded.
    Result<int64_t> unit_number(const std::string& unit, const char* iface, const char* property, char type);

    Result<UnitStatus> unit_status(const std::string& unit) override;
    Status start_and_wait(const std::string& unit, bool restart, usec_t timeout) override;
    Status stop_and_wait(const std::string& unit, usec_t timeout) override;
    Status reset_failed(const std::string& unit) override;

private:
    struct Pending {
        Systemd* self;
        JobOutcome outcome;
        bool wants_job = true;
        bool done = false;
        void set_result(const std::string& r) {
            outcome.result = r;
            if (int code = job_result_code(r)) outcome.status = Error{code, "job " + r};
        }
    };
    Systemd(BusPtr bus, size_t window, std::string peer, Route route, usec_t call_timeout)
        : bus_(std::move(bus)), peer_(std::move(peer)), route_(route), call_timeout_(call_timeout), window_(window) {}
    // A connection lost (dbus-daemon restarted, say) is made again before
    // the next call; the call that found it lost has failed already.
    void reopen_if_lost();
    void watch_jobs_of(const std::string& unit);
    void pump();
    void finish(Pending& p);
    void fail(Pending& p, Error e);
    Pending& add(const std::string& unit, const std::string& op);
    void send(BusMessagePtr m, Pending& p);
    Status wait_one(usec_t timeout);
    static int on_reply(sd_bus_message* m, void* userdata, sd_bus_error* ret_error);
    static int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error* ret_error);
    static int on_bus_message(sd_bus_message* m, void* userdata, sd_bus_error* ret_error);

    BusPtr bus_;
    BusSlotPtr job_match_;
    // On the system bus: PID 1's unique name there (signals from anyone
    // else are ignored), the filter that reads its JobRemoved signals, and
    // the units whose job signals the bus was asked to route here.
    std::string peer_;
    BusSlotPtr job_filter_;
    std::set<std::string> matched_units_;
    Route route_;
    usec_t call_timeout_;
    // Calls wait in the outbox until fewer than window_ are in flight.
    size_t window_;
    size_t in_flight_ = 0;
    size_t open_ = 0;  // calls of the current run() not yet finished
    std::deque<std::pair<BusMessagePtr, Pending*>> outbox_;
    std::deque<Pending> pending_;
    std::map<std::string, Pending*> by_job_;
    std::map<std::string, std::string> early_results_;  // JobRemoved seen before the call's reply
};


}  // namespace huddle::sys
