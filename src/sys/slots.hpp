// At most N deploys of the machine's apps talk to systemd at once. A slot is
// an abstract unix socket name bound by the deploy that holds it: the kernel
// frees it when the process ends however it ends, and it needs no file a
// sandboxed service could not write.
#pragma once
#include <memory>
#include <string>

#include "core/duration.hpp"

namespace huddle::sys {

// Deploys that may restart and check their apps at the same time. dbus-daemon
// lets one user hold 256 connections to the system bus, and a fleet's first
// deploys (1,000 apps on one machine) would otherwise all want one at once.
inline constexpr unsigned kDeploySlots = 64;

class DeploySlot {
public:
    // Wait up to MAX_WAIT for a free one of SLOTS slots named PREFIX/0..
    // nullptr when none came free; ERROR says why. *WAITED: whether it had
    // to wait at all.
    static std::unique_ptr<DeploySlot> acquire(const std::string& prefix, unsigned slots, usec_t max_wait, bool* waited,
                                               std::string& error);
    ~DeploySlot();
    DeploySlot(const DeploySlot&) = delete;
    DeploySlot& operator=(const DeploySlot&) = delete;
    unsigned index() const { return index_; }

private:
    DeploySlot(int fd, unsigned index) : fd_(fd), index_(index) {}
    int fd_;
    unsigned index_;
};

}  // namespace huddle::sys
