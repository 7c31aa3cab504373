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
int try_bind(const std::string& name, int& fd_out) {
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    // Abstract: a leading NUL, no file.
    std::memcpy(sa.sun_path + 1, name.data(), name.size());
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), len) == 0) {
        fd_out = fd;
        return 0;
    }
    int e = errno;
    ::close(fd);
    return e == EADDRINUSE ? 1 : -e;
}

}  // namespace

std::unique_ptr<DeploySlot> DeploySlot::acquire(const std::string& prefix, unsigned slots, usec_t max_wait, bool* waited,
                                                std::string& error) {
    if (waited) *waited = false;
    if (slots == 0 || prefix.size() + 12 > sizeof(sockaddr_un::sun_path)) {
        error = "deploy slots: bad name or count";
        return nullptr;
    }
    std::minstd_rand rng(static_cast<unsigned>(::getpid()) ^ static_cast<unsigned>(monotonic_usec()));
    usec_t deadline = monotonic_usec() + max_wait;
    for (;;) {
        // From a random start, so waiters do not all fight over slot 0.
        unsigned start = static_cast<unsigned>(rng() % slots);
        for (unsigned k = 0; k < slots; ++k) {
            unsigned i = (start + k) % slots;
            int fd = -1;
            int r = try_bind(prefix + "/" + std::to_string(i), fd);
            if (r == 0) return std::unique_ptr<DeploySlot>(new DeploySlot(fd, i));
            if (r < 0) {
                error = "cannot take a deploy slot: " + std::string(std::strerror(-r));
                return nullptr;
            }
        }
        if (waited) *waited = true;
        if (monotonic_usec() >= deadline) {
            error = "all " + std::to_string(slots) + " deploy slots stayed busy for " + format_timespan(max_wait);
            return nullptr;
        }
        // A deploy holds its slot for seconds (restart, settle): poll gently.
        usleep(static_cast<useconds_t>(200000 + rng() % 600000));
    }
}

DeploySlot::~DeploySlot() { ::close(fd_); }

}  // namespace huddle::sys
