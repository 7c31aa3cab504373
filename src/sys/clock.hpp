// The monotonic clock, for deadlines and waits (never affected by the wall
// clock being set).
#pragma once
#include <time.h>

#include "core/duration.hpp"

namespace huddle::sys {

inline usec_t monotonic_usec() {
    struct timespec ts {};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<usec_t>(ts.tv_sec) * kUsecPerSec + static_cast<usec_t>(ts.tv_nsec) / 1000;
}

}  // namespace huddle::sys
