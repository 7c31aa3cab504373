#include "slots.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include "clock.hpp"
#include "release.hpp"

namespace huddle::sys {
namespace {

// DIR, made when missing, as an fd: a directory of this user's (root's) that
// no one else may enter. Anything else at that path is refused, not used.
Result<UniqueFd> open_slot_dir(const std::string& dir) {
    std::string parent = dir.substr(0, dir.rfind('/'));
    if (!parent.empty())
        if (Status st = mkdir_p(parent, 0755); !st) return st.error();
    if (::mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) return errno_error(errno, "cannot create " + dir);
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return errno_error(errno, "cannot open the deploy slots' directory " + dir);
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0) return errno_error(errno, dir);
    if (st.st_uid != ::geteuid()) return Error{-EPERM, dir + " is owned by uid " + std::to_string(st.st_uid) + ", not root; refusing its deploy slots"};
    // systemd makes it (RuntimeDirectory=) 0755; only root may enter it.
    if ((st.st_mode & 07777) != 0700 && ::fchmod(fd.get(), 0700) < 0) return errno_error(errno, "cannot make " + dir + " 0700");
    return fd;
}

// 0 locked, 1 held by another deploy, -errno otherwise.
int try_lock(int dirfd, unsigned i, UniqueFd& fd_out) {
    std::string name = std::to_string(i);
    UniqueFd fd(::openat(dirfd, name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return -errno;
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
        fd_out = std::move(fd);
        return 0;
    }
    return errno == EWOULDBLOCK ? 1 : -errno;
}

}  // namespace

Result<std::unique_ptr<DeploySlot>> DeploySlot::acquire(const std::string& dir, unsigned slots, usec_t max_wait) {
    if (slots == 0 || dir.empty()) return Error{-EINVAL, "deploy slots: bad directory or count"};
    auto dfd = open_slot_dir(dir);
    if (!dfd) return dfd.error();
    std::minstd_rand rng(static_cast<unsigned>(::getpid()) ^ static_cast<unsigned>(monotonic_usec()));
    usec_t asked = monotonic_usec(), deadline = asked + max_wait;
    bool waited = false;
    for (;;) {
        // From a random start, so waiters do not all fight over slot 0.
        unsigned start = static_cast<unsigned>(rng() % slots);
        for (unsigned k = 0; k < slots; ++k) {
            unsigned i = (start + k) % slots;
            UniqueFd fd;
            int r = try_lock(dfd->get(), i, fd);
            if (r == 0) return std::unique_ptr<DeploySlot>(new DeploySlot(std::move(fd), i, waited ? monotonic_usec() - asked : 0));
            if (r < 0) return errno_error(r, "cannot take a deploy slot in " + dir);
        }
        waited = true;
        if (monotonic_usec() >= deadline)
            return Error{-EBUSY, "all " + std::to_string(slots) + " deploy slots stayed busy for " + format_timespan(max_wait)};
        // A deploy holds its slot for seconds (restart, settle): poll gently.
        usleep(static_cast<useconds_t>(200000 + rng() % 600000));
    }
}

}  // namespace huddle::sys
