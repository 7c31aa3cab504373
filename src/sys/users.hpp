// The system users apps run as by default (core/appuser.hpp), made when
// missing with systemd-sysusers, as a package's sysusers.d file would be:
// a system user with a group of its own name, no login shell, home in the
// app's data directory.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "error.hpp"

namespace huddle::sys {

struct AppUser {
    std::string user;
    std::string app;
};

// Makes those of USERS that do not exist yet, in one systemd-sysusers run.
// Returns the users that still do not exist afterwards, each with why.
std::map<std::string, Error> ensure_app_users(const std::vector<AppUser>& users);

}  // namespace huddle::sys
