#include "slots.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <random>

#include "clock.hpp"

namespace huddle::sys {
namespace {

// 0 bound, 1 taken by another deploy, -errno otherwise.
int try_bind(const std::string& name, UniqueFd& fd_out) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) return -errno;
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    // Abstract: a leading NUL, no file.
    std::memcpy(sa.sun_path + 1, name.data(), name.size());
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), len) == 0) {
        fd_out = std::move(fd);
        return 0;
    }
    return errno == EADDRINUSE ? 1 : -errno;
}

}  // namespace

Result<std::unique_ptr<DeploySlot>> DeploySlot::acquire(const std::string& prefix, unsigned slots, usec_t max_wait) {
    if (slots == 0 || prefix.size() + 12 > sizeof(sockaddr_un::sun_path)) return Error{-EINVAL, "deploy slots: bad name or count"};
    std::minstd_rand rng(static_cast<unsigned>(::getpid()) ^ static_cast<unsigned>(monotonic_usec()));
    usec_t asked = monotonic_usec(), deadline = asked + max_wait;
    bool waited = false;
    for (;;) {
        // From a random start, so waiters do not all fight over slot 0.
        unsigned start = static_cast<unsigned>(rng() % slots);
        for (unsigned k = 0; k < slots; ++k) {
            unsigned i = (start + k) % slots;
            UniqueFd fd;
            int r = try_bind(prefix + "/" + std::to_string(i), fd);
            if (r == 0) return std::unique_ptr<DeploySlot>(new DeploySlot(std::move(fd), i, waited ? monotonic_usec() - asked : 0));
            if (r < 0) return errno_error(r, "cannot take a deploy slot");
        }
        waited = true;
        if (monotonic_usec() >= deadline)
            return Error{-EBUSY, "all " + std::to_string(slots) + " deploy slots stayed busy for " + format_timespan(max_wait)};
        // A deploy holds its slot for seconds (restart, settle): poll gently.
        usleep(static_cast<useconds_t>(200000 + rng() % 600000));
    }
}

}  // namespace huddle::sys
