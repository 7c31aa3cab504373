// The system users apps run as by default and the users that fetch for them
// (core/appuser.hpp), made when missing with systemd-sysusers, as a
// package's sysusers.d file would be: a system user with a group of its own
// name, no login shell; an app's home is its data directory, a fetch user's /.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "error.hpp"

namespace huddle::sys {

struct AppUser {
    std::string user;
    std::string app;
    bool fetch = false;  // the app's fetch user (home /), not the app's own (home its data)
};

// Makes those of USERS that do not exist yet, in one systemd-sysusers run.
// Returns the users that still do not exist afterwards, each with why.
std::map<std::string, Error> ensure_app_users(const std::vector<AppUser>& users);

}  // namespace huddle::sys
