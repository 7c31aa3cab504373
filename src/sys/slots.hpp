// At most N deploys of the machine's apps talk to systemd at once. A slot is
// an abstract unix socket name bound by the deploy that holds it: the kernel
// frees it when the process ends however it ends, and it needs no file a
// sandboxed service could not write.
#pragma once
#include <memory>
#include <string>

#include "core/duration.hpp"
#include "error.hpp"
#include "handles.hpp"

namespace huddle::sys {

// Deploys that may restart and check their apps at the same time. dbus-daemon
// lets one user hold 256 connections to the system bus, and a fleet's first
// deploys (1,000 apps on one machine) would otherwise all want one at once.
inline constexpr unsigned kDeploySlots = 64;

class DeploySlot {
public:
    // Wait up to MAX_WAIT for a free one of SLOTS slots named PREFIX/0..
    // -EBUSY when none came free in time.
    static Result<std::unique_ptr<DeploySlot>> acquire(const std::string& prefix, unsigned slots, usec_t max_wait);
    unsigned index() const { return index_; }
    usec_t waited() const { return waited_; }  // 0: one was free at once

private:
    DeploySlot(UniqueFd fd, unsigned index, usec_t waited) : fd_(std::move(fd)), index_(index), waited_(waited) {}
    UniqueFd fd_;
    unsigned index_;
    usec_t waited_;
};

}  // namespace huddle::sys
