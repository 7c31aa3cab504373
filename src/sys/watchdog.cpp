#include "watchdog.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>

#include "core/unitname.hpp"
#include "cycle.hpp"
#include "handles.hpp"
#include "release.hpp"

namespace huddle::sys {
namespace {

using AddrInfoPtr = std::unique_ptr<addrinfo, FreeWith<freeaddrinfo>>;

Error failed(const std::string& what) { return Error{-EIO, "watchdog: " + what}; }

// The first of the host's addresses that accepts a connection.
Result<UniqueFd> connect_any(const WatchdogConfig& w) {
    struct addrinfo hints {};
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo* raw = nullptr;
    if (getaddrinfo(w.host.c_str(), std::to_string(w.port).c_str(), &hints, &raw) != 0 || !raw) return failed("cannot resolve " + w.host);
    AddrInfoPtr res(raw);
    int last = 0;
    for (const addrinfo* a = res.get(); a; a = a->ai_next) {
        UniqueFd fd(::socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!fd) {
            last = errno;
            continue;
        }
        struct timeval tv {5, 0};
        ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) == 0) return fd;
        last = errno;
    }
    return failed("cannot connect to " + w.host + ":" + std::to_string(w.port) + ": " + std::strerror(last));
}

}  // namespace

Status watchdog_check(const WatchdogConfig& w) {
    auto fd = connect_any(w);
    if (!fd) return fd.error();
    if (!w.request.empty() && ::send(fd->get(), w.request.data(), w.request.size(), MSG_NOSIGNAL) < 0) return failed("cannot send the request");
    std::string got;
    char buf[4096];
    while (!w.response.empty() && got.find(w.response) == std::string::npos && got.size() < 65536) {
        ssize_t n = ::recv(fd->get(), buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
    }
    if (!w.response.empty() && got.find(w.response) == std::string::npos) return failed("the answer did not contain '" + w.response + "'");
    return {};
}

int run_watchdog(const AppConfig& c, const DeployEnv& env) {
    if (!c.watchdog || !c.app) return kFetchOk;
    ScopedLogFields f({{"HUDDLE_APP", c.name}, {"OBJECT_SYSTEMD_UNIT", app_unit_name(c.name)}, {"HUDDLE_STEP", "watchdog"}});
    // A deploy in progress restarts the app itself; do not race it.
    auto lock = AppLock::try_acquire(env.state_dir + "/" + c.name + "/lock");
    if (!lock) {
        // A deploy is running (it checks the app itself), or the lock cannot
        // be taken at all, which must not pass for a healthy app.
        if (is_lock_held(lock.code())) return kFetchOk;
        spdlog::error("watchdog: cannot take the app's lock: {}", lock.error().message);
        return kFetchTemporary;
    }
    auto sd = env.connect_systemd();
    if (!sd) {
        spdlog::error("{}", sd.error().message);
        return kFetchTemporary;
    }
    std::string unit = app_unit_name(c.name);
    auto st = (*sd)->unit_status(unit);
    if (!st || st->active_state != "active") return kFetchOk;
    Status why = watchdog_check(*c.watchdog);
    if (why) return kFetchOk;
    spdlog::error("{}; restarting {}", why.error().message, unit);
    if (Status r = (*sd)->start_and_wait(unit, true, 10 * 60 * kUsecPerSec); !r) {
        spdlog::error("restarting {} failed: {}", unit, r.error().message);
        return kFetchTemporary;
    }
    return kFetchOk;
}

}  // namespace huddle::sys
