// Huddle's [watchdog] check: connect, send the request, expect the response.
#pragma once
#include "core/config.hpp"
#include "error.hpp"

namespace huddle::sys {

// -EIO with what failed (never a code is_no_answer() takes for systemd's).
Status watchdog_check(const WatchdogConfig& w);

}  // namespace huddle::sys
