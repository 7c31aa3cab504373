// At most N deploys of the machine's apps talk to systemd at once. A slot is
// an flock(2) on a file of a directory only root may enter
// (/run/huddle/slots/0..N-1, 0600): the kernel frees it when the process
// ends however it ends, and no other user can open the files, let alone
// hold them (abstract unix socket names, used before, have no permissions:
// any user could hold them all and stop every deploy). The fetch unit gets
// the directory as its RuntimeDirectory=, preserved.
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
    // Wait up to MAX_WAIT for a free one of SLOTS slots, the files DIR/0..
    // (DIR made 0700 when missing; -EPERM when another user owns it).
    // -EBUSY when none came free in time.
    static Result<std::unique_ptr<DeploySlot>> acquire(const std::string& dir, unsigned slots, usec_t max_wait);
    unsigned index() const { return index_; }
    usec_t waited() const { return waited_; }  // 0: one was free at once

private:
    DeploySlot(UniqueFd fd, unsigned index, usec_t waited) : fd_(std::move(fd)), index_(index), waited_(waited) {}
    UniqueFd fd_;
    unsigned index_;
    usec_t waited_;
};

}  // namespace huddle::sys
