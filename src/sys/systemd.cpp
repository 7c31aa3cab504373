#include "systemd.hpp"

#include "clock.hpp"

#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <variant>

namespace huddle::sys {
namespace {

constexpr const char* kDest = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
// Calls in flight at once: enough to keep PID 1 busy, bounded so a huge
// reconcile does not queue thousands of messages in the socket at once.
constexpr size_t kWindow = 1024;
constexpr uint64_t kBusCallTimeout = 90 * kUsecPerSec;

template <class... Ts>
struct overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

int append_strv(sd_bus_message* m, const std::vector<std::string>& v) {
    int r = sd_bus_message_open_container(m, 'a', "s");
    for (const auto& s : v)
        if (r >= 0) r = sd_bus_message_append_basic(m, 's', s.c_str());
    return r >= 0 ? sd_bus_message_close_container(m) : r;
}

int append_value(sd_bus_message* m, const PropertyValue& value) {
    return std::visit(
        overloaded{
            [m](const std::string& s) { return sd_bus_message_append(m, "s", s.c_str()); },
            [m](bool b) { return sd_bus_message_append(m, "b", static_cast<int>(b)); },
            [m](uint64_t t) { return sd_bus_message_append(m, "t", t); },
            [m](const std::vector<std::string>& v) { return append_strv(m, v); },
            [m](const std::vector<ExecCommand>& v) {
                int r = sd_bus_message_open_container(m, 'a', "(sasb)");
                for (const auto& c : v) {
                    if (r >= 0) r = sd_bus_message_open_container(m, 'r', "sasb");
                    if (r >= 0) r = sd_bus_message_append(m, "s", c.path.c_str());
                    if (r >= 0) r = append_strv(m, c.argv);
                    if (r >= 0) r = sd_bus_message_append(m, "b", static_cast<int>(c.ignore_failure));
                    if (r >= 0) r = sd_bus_message_close_container(m);
                }
                return r >= 0 ? sd_bus_message_close_container(m) : r;
            },
            [m](const std::vector<std::pair<std::string, bool>>& v) {
                int r = sd_bus_message_open_container(m, 'a', "(sb)");
                for (const auto& [s, b] : v)
                    if (r >= 0) r = sd_bus_message_append(m, "(sb)", s.c_str(), static_cast<int>(b));
                return r >= 0 ? sd_bus_message_close_container(m) : r;
            },
            [m](const std::vector<std::pair<std::string, uint64_t>>& v) {
                int r = sd_bus_message_open_container(m, 'a', "(st)");
                for (const auto& [s, t] : v)
                    if (r >= 0) r = sd_bus_message_append(m, "(st)", s.c_str(), t);
                return r >= 0 ? sd_bus_message_close_container(m) : r;
            },
            [m](const std::vector<Condition>& v) {
                int r = sd_bus_message_open_container(m, 'a', "(sbbs)");
                for (const auto& c : v)
                    if (r >= 0)
                        r = sd_bus_message_append(m, "(sbbs)", c.type.c_str(), static_cast<int>(c.trigger), static_cast<int>(c.negate),
                                                  c.parameter.c_str());
                return r >= 0 ? sd_bus_message_close_container(m) : r;
            },
            [m](const NameList& l) {
                int r = sd_bus_message_open_container(m, 'r', "bas");
                if (r >= 0) r = sd_bus_message_append(m, "b", static_cast<int>(l.allow));
                if (r >= 0) r = append_strv(m, l.names);
                return r >= 0 ? sd_bus_message_close_container(m) : r;
            },
        },
        value);
}

int append_properties(sd_bus_message* m, const std::vector<Property>& props) {
    int r = sd_bus_message_open_container(m, 'a', "(sv)");
    for (const auto& p : props) {
        if (r >= 0) r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0) r = sd_bus_message_append(m, "s", p.name.c_str());
        if (r >= 0) r = sd_bus_message_open_container(m, 'v', p.signature.c_str());
        if (r >= 0) r = append_value(m, p.value);
        if (r >= 0) r = sd_bus_message_close_container(m);
        if (r >= 0) r = sd_bus_message_close_container(m);
    }
    return r >= 0 ? sd_bus_message_close_container(m) : r;
}

std::string errno_text(int r) { return std::strerror(r < 0 ? -r : r); }

std::string call_error(const sd_bus_error& err, int r) {
    return std::string(err.name ? err.name : "error") + ": " + (err.message ? err.message : errno_text(r));
}

// PID 1's unique name on the bus: 1 with OWNER set, 0 when it has not joined
// the bus (yet), negative with WHY when the bus did not answer.
int bus_owner(sd_bus* bus, std::string& owner, std::string& why) {
    sd_bus_error err = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    int r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner", &err, &reply,
                               "s", kDest);
    BusMessagePtr rp(reply);
    const char* name = nullptr;
    if (r >= 0 && sd_bus_message_read(reply, "s", &name) >= 0 && name) {
        owner = name;
        r = 1;
    } else if (r < 0 && sd_bus_error_has_name(&err, "org.freedesktop.DBus.Error.NameHasNoOwner")) {
        r = 0;
    } else {
        why = r < 0 ? call_error(err, r) : "unexpected reply to GetNameOwner";
        r = r < 0 ? r : -EBADMSG;
    }
    sd_bus_error_free(&err);
    return r;
}

}  // namespace

std::unique_ptr<Systemd> Systemd::connect(std::string& error, Route route) {
    if (::geteuid() != 0) {
        error = "must run as root: it creates system units";
        return nullptr;
    }
    sd_bus* raw = nullptr;
    int r;
    if (route == Route::system_bus) {
        r = sd_bus_open_system(&raw);
        BusPtr bus(raw);
        // A PID 1 busy with a thousand unit starts a second answers in a
        // minute rather than sd-bus's 25 s (soak); a deploy can wait that
        // long, and an answer beats a retried deploy.
        if (r >= 0) r = sd_bus_set_method_call_timeout(raw, kBusCallTimeout);
        const char* unique = nullptr;
        if (r >= 0) r = sd_bus_get_unique_name(raw, &unique);  // waits for the bus's Hello
        if (r >= 0) {
            std::string owner, why;
            int q = bus_owner(raw, owner, why);
            if (q > 0) return std::unique_ptr<Systemd>(new Systemd(std::move(bus), kWindow, owner, route));
            // PID 1 joins the bus only after dbus.service is up: early in boot, the private socket.
            if (q < 0) {
                error = "cannot reach systemd on the system bus: " + why;
                return nullptr;
            }
        } else if (r != -ENOENT && r != -ECONNREFUSED) {
            // A bus that is there but refuses (its per-user connection
            // limit) is an error: falling back would bring back what the
            // bus avoids. No dbus-daemon at all: the private socket.
            error = "cannot connect to the system bus: " + errno_text(r) + "; is dbus.service running?";
            return nullptr;
        }
        raw = nullptr;
    }
    r = sd_bus_new(&raw);
    BusPtr bus(raw);
    if (r >= 0) r = sd_bus_set_address(raw, "unix:path=/run/systemd/private");
    if (r >= 0) r = sd_bus_start(raw);
    if (r < 0) {
        error = "cannot connect to systemd at /run/systemd/private: " + errno_text(r) + "; is systemd running as PID 1?";
        return nullptr;
    }
    return std::unique_ptr<Systemd>(new Systemd(std::move(bus), kWindow, "", route));
}

int Systemd::list_units(const std::vector<std::string>& patterns, std::vector<LiveUnit>& out, std::string& error) {
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_call(bus_.get(), &raw, kDest, kPath, kManager, "ListUnitsByPatterns");
    BusMessagePtr m(raw);
    if (r >= 0) r = append_strv(raw, {});
    if (r >= 0) r = append_strv(raw, patterns);
    sd_bus_error err = SD_BUS_ERROR_NULL;
    sd_bus_message* reply_raw = nullptr;
    if (r >= 0) r = sd_bus_call(bus_.get(), raw, 0, &err, &reply_raw);
    BusMessagePtr reply(reply_raw);
    if (r < 0) {
        error = "listing units failed: " + std::string(err.message ? err.message : errno_text(r).c_str());
        sd_bus_error_free(&err);
        return r;
    }
    r = sd_bus_message_enter_container(reply_raw, 'a', "(ssssssouso)");
    if (r < 0) return r;
    const char *name, *desc, *load, *active, *sub, *following, *job_type, *unit_path, *job_path;
    uint32_t job_id;
    while ((r = sd_bus_message_read(reply_raw, "(ssssssouso)", &name, &desc, &load, &active, &sub, &following, &unit_path, &job_id, &job_type,
                                    &job_path)) > 0) {
        if (std::strcmp(load, "not-found") == 0) continue;
        out.push_back({name, desc, active});
    }
    return r < 0 ? r : 0;
}

void Systemd::reopen_if_lost() {
    if (sd_bus_is_open(bus_.get()) > 0 || !pending_.empty()) return;
    std::string err;
    auto fresh = connect(err, route_);
    if (!fresh) return;  // the next call fails and says so
    job_match_.reset();
    job_filter_.reset();
    matched_units_.clear();
    bus_ = std::move(fresh->bus_);
    peer_ = fresh->peer_;
}

Systemd::Pending& Systemd::add(const std::string& unit, const std::string& op) {
    reopen_if_lost();
    if (peer_.empty() && !job_match_) {
        // PID 1 sends its private connections every signal anyway.
        sd_bus_slot* slot = nullptr;
        sd_bus_match_signal(bus_.get(), &slot, nullptr, kPath, kManager, "JobRemoved", on_job_removed, this);
        job_match_.reset(slot);
    }
    if (!peer_.empty() && !matched_units_.count(unit)) {
        // Ask the bus for this unit's jobs only (JobRemoved's third
        // argument), before the call is sent, so its signal cannot come
        // first. sd-bus 252 routes such a rule at the bus but never
        // dispatches it here (checked), hence AddMatch by hand and a filter.
        // A name with a quote or backslash, which a rule would have to
        // escape, gets every JobRemoved instead; they are told apart by job.
        if (!job_filter_) {
            sd_bus_slot* slot = nullptr;
            sd_bus_add_filter(bus_.get(), &slot, on_bus_message, this);
            job_filter_.reset(slot);
        }
        std::string rule = std::string("type='signal',sender='") + kDest + "',path='" + kPath + "',interface='" + kManager +
                           "',member='JobRemoved'";
        if (unit.find_first_of("'\\") == std::string::npos) rule += ",arg2='" + unit + "'";
        // Not remembered when it failed: the next call asks again.
        if (sd_bus_call_method(bus_.get(), "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", nullptr,
                               nullptr, "s", rule.c_str()) >= 0)
            matched_units_.insert(unit);
    }
    pending_.push_back(Pending{this, JobOutcome{unit, op, "", ""}});
    return pending_.back();
}

void Systemd::send(BusMessagePtr m, Pending& p) {
    if (!m) {
        p.outcome.error = "building the request failed";
        p.done = true;
        return;
    }
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
        if (r < 0) {
            p->outcome.error = "sending the request failed: " + errno_text(r);
            finish(*p);
        } else {
            in_flight_++;
        }
    }
}

void Systemd::queue_start_transient(const StartCall& call) {
    Pending& p = add(call.unit->name, "start");
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_call(bus_.get(), &raw, kDest, kPath, kManager, "StartTransientUnit");
    BusMessagePtr m(raw);
    if (r >= 0) r = sd_bus_message_append(raw, "ss", call.unit->name.c_str(), "fail");
    if (r >= 0) r = append_properties(raw, call.unit->properties);
    if (r >= 0) r = sd_bus_message_open_container(raw, 'a', "(sa(sv))");
    for (const UnitPlan* aux : call.aux) {
        if (r >= 0) r = sd_bus_message_open_container(raw, 'r', "sa(sv)");
        if (r >= 0) r = sd_bus_message_append(raw, "s", aux->name.c_str());
        if (r >= 0) r = append_properties(raw, aux->properties);
        if (r >= 0) r = sd_bus_message_close_container(raw);
    }
    if (r >= 0) r = sd_bus_message_close_container(raw);
    if (r < 0) {
        p.outcome.error = "building the request failed: " + errno_text(r);
        p.done = true;
        return;
    }
    send(std::move(m), p);
}

static BusMessagePtr unit_call(sd_bus* bus, const char* method, const std::string& unit, const char* mode) {
    sd_bus_message* raw = nullptr;
    if (sd_bus_message_new_method_call(bus, &raw, "org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                       method) < 0)
        return nullptr;
    BusMessagePtr m(raw);
    if (mode ? sd_bus_message_append(raw, "ss", unit.c_str(), mode) < 0 : sd_bus_message_append(raw, "s", unit.c_str()) < 0) return nullptr;
    return m;
}

void Systemd::queue_stop(const std::string& unit) {
    Pending& p = add(unit, "stop");
    send(unit_call(bus_.get(), "StopUnit", unit, "replace"), p);
}

void Systemd::queue_start(const std::string& unit) {
    Pending& p = add(unit, "start");
    send(unit_call(bus_.get(), "StartUnit", unit, "replace"), p);
}

void Systemd::queue_restart(const std::string& unit) {
    Pending& p = add(unit, "restart");
    send(unit_call(bus_.get(), "RestartUnit", unit, "replace"), p);
}

void Systemd::queue_reset_failed(const std::string& unit) {
    Pending& p = add(unit, "reset-failed");
    p.wants_job = false;
    send(unit_call(bus_.get(), "ResetFailedUnit", unit, nullptr), p);
}

int Systemd::on_reply(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto* p = static_cast<Pending*>(userdata);
    Systemd* self = p->self;
    self->in_flight_--;
    self->pump();
    if (const sd_bus_error* e = sd_bus_message_get_error(m)) {
        p->outcome.error = std::string(e->name ? e->name : "error") + ": " + (e->message ? e->message : "");
        self->finish(*p);
        return 0;
    }
    if (!p->wants_job) {
        self->finish(*p);
        return 0;
    }
    const char* job = nullptr;
    if (sd_bus_message_read(m, "o", &job) < 0 || !job) {
        p->outcome.error = "unexpected reply from systemd";
        self->finish(*p);
        return 0;
    }
    if (auto it = self->early_results_.find(job); it != self->early_results_.end()) {
        p->outcome.result = it->second;
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
    if (sd_bus_message_is_signal(m, kManager, "JobRemoved") && sender && self->peer_ == sender &&
        std::strcmp(sd_bus_message_get_path(m), kPath) == 0)
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
    it->second->outcome.result = result;
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
        if (!p.done && p.outcome.error.empty()) p.outcome.result = "pending";
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
        std::vector<LiveUnit> live;
        std::string err;
        if (list_units(patterns, live, err) < 0) break;
        left.clear();
        for (const auto& u : live) left.push_back(u.name);
        if (left.empty() || monotonic_usec() >= deadline) break;
        // Collection happens in PID 1's next loop iteration; a short nap is enough.
        struct timespec ts {0, 2 * 1000 * 1000};
        nanosleep(&ts, nullptr);
    }
    return left;
}

}  // namespace huddle::sys

namespace huddle::sys {

std::string Systemd::unit_object(const std::string& unit, std::string* error) {
    reopen_if_lost();
    sd_bus_error err = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    const char* path = nullptr;
    int r = sd_bus_call_method(bus_.get(), kDest, kPath, kManager, "GetUnit", &err, &reply, "s", unit.c_str());
    BusMessagePtr rp(reply);
    // Not loaded is an answer; a timeout or a lost connection is not.
    if (r < 0 && error && !sd_bus_error_has_name(&err, "org.freedesktop.systemd1.NoSuchUnit")) *error = call_error(err, r);
    sd_bus_error_free(&err);
    if (r < 0 || sd_bus_message_read(reply, "o", &path) < 0 || !path) return "";
    return path;
}

Systemd::UnitStatus Systemd::unit_status(const std::string& unit) {
    UnitStatus st;
    std::string object = unit_object(unit, &st.error);
    if (object.empty()) return st;
    const char* path = object.c_str();
    sd_bus_error err = SD_BUS_ERROR_NULL;
    auto failed = [&](int r) {
        st.error = call_error(err, r);
        sd_bus_error_free(&err);
        return st;
    };
    char* load = nullptr;
    // A unit only referenced by another is listed, but "not-found".
    int r = sd_bus_get_property_string(bus_.get(), kDest, path, "org.freedesktop.systemd1.Unit", "LoadState", &err, &load);
    if (r < 0) return failed(r);
    st.loaded = load && std::strcmp(load, "loaded") == 0;
    free(load);
    if (!st.loaded) return st;
    char* active = nullptr;
    r = sd_bus_get_property_string(bus_.get(), kDest, path, "org.freedesktop.systemd1.Unit", "ActiveState", &err, &active);
    if (r < 0) return failed(r);
    st.active_state = active ? active : "";
    free(active);
    sd_bus_message* m = nullptr;
    r = sd_bus_get_property(bus_.get(), kDest, path, "org.freedesktop.systemd1.Unit", "InvocationID", &err, &m, "ay");
    BusMessagePtr mp(m);
    if (r < 0) return failed(r);
    const void* bytes = nullptr;
    size_t n = 0;
    if (sd_bus_message_read_array(m, 'y', &bytes, &n) >= 0)
        for (size_t i = 0; i < n; ++i) {
            static const char* hex = "0123456789abcdef";
            unsigned char b = static_cast<const unsigned char*>(bytes)[i];
            st.invocation += hex[b >> 4];
            st.invocation += hex[b & 15];
        }
    r = sd_bus_get_property_trivial(bus_.get(), kDest, path, "org.freedesktop.systemd1.Service", "NRestarts", &err, 'u', &st.n_restarts);
    if (r < 0) return failed(r);
    return st;
}

std::string Systemd::start_and_wait(const std::string& unit, bool restart, usec_t timeout, bool* unanswered) {
    if (restart)
        queue_restart(unit);
    else
        queue_start(unit);
    for (const auto& o : run(timeout))
        if (!o.ok()) {
            if (unanswered) *unanswered = o.unanswered();
            return o.error.empty() ? "job " + o.result : o.error;
        }
    return "";
}

}  // namespace huddle::sys

namespace huddle::sys {

std::optional<int64_t> Systemd::unit_number(const std::string& unit, const char* iface, const char* property, char type) {
    std::string object = unit_object(unit);
    if (object.empty()) return std::nullopt;
    const char* path = object.c_str();
    sd_bus_error err = SD_BUS_ERROR_NULL;
    int r;
    int64_t out = 0;
    if (type == 't') {
        uint64_t v = 0;
        r = sd_bus_get_property_trivial(bus_.get(), kDest, path, iface, property, &err, 't', &v);
        out = static_cast<int64_t>(v);
    } else {
        int32_t v = 0;
        r = sd_bus_get_property_trivial(bus_.get(), kDest, path, iface, property, &err, 'i', &v);
        out = v;
    }
    sd_bus_error_free(&err);
    if (r < 0) return std::nullopt;
    return out;
}

int running_systemd_version() {
    if (::geteuid() != 0 || ::access("/run/systemd/private", F_OK) != 0) return 0;
    sd_bus* raw = nullptr;
    int r = sd_bus_new(&raw);
    BusPtr bus(raw);
    if (r >= 0) r = sd_bus_set_address(raw, "unix:path=/run/systemd/private");
    if (r >= 0) r = sd_bus_start(raw);
    char* version = nullptr;
    if (r >= 0)
        r = sd_bus_get_property_string(raw, "org.freedesktop.systemd1", "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "Version",
                                       nullptr, &version);
    if (r < 0) return 0;
    int major = std::atoi(version);  // "257.13-1~deb13u1", "252"
    std::free(version);
    return major;
}

}  // namespace huddle::sys
