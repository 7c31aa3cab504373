// Batches of unit jobs: calls pipelined through a window, replies and
// JobRemoved signals matched to them, one wait for all.
#include <cstring>

#include "clock.hpp"
#include "systemd.hpp"
#include "systemd_message.hpp"

namespace huddle::sys {

int job_result_code(const std::string& result) {
    static const std::map<std::string, int> codes = {
        {"done", 0},           {"skipped", 0},       {"canceled", -ECANCELED}, {"timeout", -ETIME},  {"dependency", -EIO},
        {"invalid", -ENOEXEC}, {"assert", -EPROTO},  {"unsupported", -EOPNOTSUPP}, {"once", -ESTALE}, {"pending", -ETIMEDOUT},
    };
    auto it = codes.find(result);
    return it == codes.end() ? -EIO : it->second;
}

void Systemd::watch_jobs_of(const std::string& unit) {
    if (peer_.empty() && !job_match_) {
        // PID 1 sends its private connections every signal anyway.
        sd_bus_slot* slot = nullptr;
        sd_bus_match_signal(bus_.get(), &slot, nullptr, bus::kPath, bus::kManager, "JobRemoved", on_job_removed, this);
        job_match_.reset(slot);
    }
    if (peer_.empty() || matched_units_.count(unit)) return;
    // Ask the bus for this unit's jobs only (JobRemoved's third argument),
    // before the call is sent, so its signal cannot come first. sd-bus 252
    // routes such a rule at the bus but never dispatches it here (checked),
    // hence AddMatch by hand and a filter. A name with a quote or backslash,
    // which a rule would have to escape, gets every JobRemoved instead; they
    // are told apart by job.
    if (!job_filter_) {
        sd_bus_slot* slot = nullptr;
        sd_bus_add_filter(bus_.get(), &slot, on_bus_message, this);
        job_filter_.reset(slot);
    }
    std::string rule = std::string("type='signal',sender='") + bus::kDest + "',path='" + bus::kPath + "',interface='" + bus::kManager +
                       "',member='JobRemoved'";
    if (unit.find_first_of("'\\") == std::string::npos) rule += ",arg2='" + unit + "'";
    // Not remembered when it failed: the next call asks again.
    if (sd_bus_call_method(bus_.get(), "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", nullptr, nullptr,
                           "s", rule.c_str()) >= 0)
        matched_units_.insert(unit);
}

Systemd::Pending& Systemd::add(const std::string& unit, const std::string& op) {
    reopen_if_lost();
    watch_jobs_of(unit);
    pending_.push_back(Pending{this, JobOutcome{unit, op, "", {}}});
    return pending_.back();
}

void Systemd::fail(Pending& p, Error e) {
    p.outcome.status = std::move(e);
    finish(p);
}

void Systemd::send(BusMessagePtr m, Pending& p) {
    if (!m) return fail(p, Error{-ENOMEM, "building the request failed"});
    outbox_.emplace_back(std::move(m), &p);
    pump();
}

void Systemd::finish(Pending& p) {
    if (!p.done && open_ > 0) open_--;
    p.done = true;
}

void Systemd::pump() {
    while (!outbox_.empty() && in_flight_ < window_) {
        auto [m, p] = std::move(outbox_.front());
        outbox_.pop_front();
        int r = sd_bus_call_async(bus_.get(), nullptr, m.get(), on_reply, p, 0);
        if (r < 0)
            fail(*p, errno_error(r, "sending the request failed"));
        else
            in_flight_++;
    }
}

void Systemd::queue_start_transient(const StartCall& call) {
    Pending& p = add(call.unit->name, "start");
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_call(bus_.get(), &raw, bus::kDest, bus::kPath, bus::kManager, "StartTransientUnit");
    BusMessagePtr m(raw);
    if (r >= 0) r = sd_bus_message_append(raw, "ss", call.unit->name.c_str(), "fail");
    if (r >= 0) r = bus::append_properties(raw, call.unit->properties);
    if (r >= 0) r = sd_bus_message_open_container(raw, 'a', "(sa(sv))");
    for (const UnitPlan* aux : call.aux) {
        if (r >= 0) r = sd_bus_message_open_container(raw, 'r', "sa(sv)");
        if (r >= 0) r = sd_bus_message_append(raw, "s", aux->name.c_str());
        if (r >= 0) r = bus::append_properties(raw, aux->properties);
        if (r >= 0) r = sd_bus_message_close_container(raw);
    }
    if (r >= 0) r = sd_bus_message_close_container(raw);
    if (r < 0) return fail(p, errno_error(r, "building the request failed"));
    send(std::move(m), p);
}

void Systemd::queue_stop(const std::string& unit) { send(bus::unit_call(bus_.get(), "StopUnit", unit, "replace"), add(unit, "stop")); }
void Systemd::queue_start(const std::string& unit) { send(bus::unit_call(bus_.get(), "StartUnit", unit, "replace"), add(unit, "start")); }
void Systemd::queue_restart(const std::string& unit) {
    send(bus::unit_call(bus_.get(), "RestartUnit", unit, "replace"), add(unit, "restart"));
}
void Systemd::queue_reset_failed(const std::string& unit) {
    Pending& p = add(unit, "reset-failed");
    p.wants_job = false;
    send(bus::unit_call(bus_.get(), "ResetFailedUnit", unit, nullptr), p);
}

int Systemd::on_reply(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto* p = static_cast<Pending*>(userdata);
    Systemd* self = p->self;
    self->in_flight_--;
    self->pump();
    if (const sd_bus_error* e = sd_bus_message_get_error(m)) {
        self->fail(*p, bus::reply_error(*e, ""));
        return 0;
    }
    if (!p->wants_job) {
        self->finish(*p);
        return 0;
    }
    const char* job = nullptr;
    if (sd_bus_message_read(m, "o", &job) < 0 || !job) {
        self->fail(*p, Error{-EBADMSG, "unexpected reply from systemd"});
        return 0;
    }
    if (auto it = self->early_results_.find(job); it != self->early_results_.end()) {
        p->set_result(it->second);
        self->finish(*p);
        self->early_results_.erase(it);
    } else {
        self->by_job_[job] = p;
    }
    return 0;
}

int Systemd::on_bus_message(sd_bus_message* m, void* userdata, sd_bus_error* ret_error) {
    auto* self = static_cast<Systemd*>(userdata);
    const char* sender = sd_bus_message_get_sender(m);
    if (sd_bus_message_is_signal(m, bus::kManager, "JobRemoved") && sender && self->peer_ == sender &&
        std::strcmp(sd_bus_message_get_path(m), bus::kPath) == 0)
        return on_job_removed(m, userdata, ret_error);
    return 0;
}

int Systemd::on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto* self = static_cast<Systemd*>(userdata);
    uint32_t id;
    const char *job, *unit, *result;
    if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0) return 0;
    auto it = self->by_job_.find(job);
    if (it == self->by_job_.end()) {
        self->early_results_[job] = result;
        return 0;
    }
    it->second->set_result(result);
    self->finish(*it->second);
    self->by_job_.erase(it);
    return 0;
}

std::vector<JobOutcome> Systemd::run(usec_t timeout) {
    usec_t deadline = monotonic_usec() + timeout;
    // Counted once here, then by the callbacks: recounting the queue on
    // every message would make a large batch quadratic.
    open_ = 0;
    for (const auto& p : pending_) open_ += !p.done;
    while (open_ > 0) {
        int r = sd_bus_process(bus_.get(), nullptr);
        if (r < 0) break;
        if (r > 0) continue;
        usec_t now = monotonic_usec();
        if (now >= deadline) break;
        if (sd_bus_wait(bus_.get(), deadline - now) < 0) break;
    }
    std::vector<JobOutcome> out;
    for (auto& p : pending_) {
        if (!p.done && p.outcome.status.ok()) p.set_result("pending");
        out.push_back(p.outcome);
    }
    // Calls still in flight point into pending_: drop the connection's
    // interest in them before forgetting them.
    if (open_ > 0) {
        sd_bus_flush(bus_.get());
        sd_bus_close(bus_.get());
    }
    pending_.clear();
    outbox_.clear();
    in_flight_ = 0;
    by_job_.clear();
    early_results_.clear();
    return out;
}

Status Systemd::wait_one(usec_t timeout) {
    for (auto& o : run(timeout))
        if (!o.ok()) return o.status;
    return {};
}

Status Systemd::start_and_wait(const std::string& unit, bool restart, usec_t timeout) {
    if (restart)
        queue_restart(unit);
    else
        queue_start(unit);
    return wait_one(timeout);
}

Status Systemd::stop_and_wait(const std::string& unit, usec_t timeout) {
    queue_stop(unit);
    return wait_one(timeout);
}

Status Systemd::reset_failed(const std::string& unit) {
    queue_reset_failed(unit);
    return wait_one(call_timeout_);
}

Systemd::Removal Systemd::remove_units(const std::vector<std::string>& units) {
    Removal r;
    if (units.empty()) return r;
    for (const auto& u : units) queue_stop(u);
    r.stops = run(kStopWait);
    // Whether a unit failed or not, resetting it is what lets systemd
    // collect it; a reset of a unit that is not failed is a no-op.
    for (const auto& u : units) queue_reset_failed(u);
    run(kUnloadWait);
    r.still_loaded = wait_unloaded(units, kUnloadWait);
    return r;
}

std::vector<JobOutcome> Systemd::start_transients(const std::vector<StartCall>& calls, usec_t timeout) {
    if (calls.empty()) return {};
    for (const auto& c : calls) queue_start_transient(c);
    return run(timeout);
}

}  // namespace huddle::sys
