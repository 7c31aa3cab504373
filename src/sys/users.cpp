#include "users.hpp"

#include <pwd.h>

#include <spdlog/spdlog.h>

#include "process.hpp"

namespace huddle::sys {

namespace {
bool exists(const std::string& user) { return ::getpwnam(user.c_str()) != nullptr; }
}  // namespace

std::map<std::string, Error> ensure_app_users(const std::vector<AppUser>& users) {
    std::vector<std::string> argv = {"systemd-sysusers", "--inline"};
    std::vector<const AppUser*> missing;
    for (const auto& u : users) {
        if (exists(u.user)) continue;
        missing.push_back(&u);
        // App names are letters, digits and ._+- (check_app_name): nothing
        // here needs quoting beyond the description's own quotes.
        argv.push_back("u " + u.user + " - \"huddle " + (u.fetch ? "fetch for " : "app ") + u.app + "\" " +
                       (u.fetch ? std::string("/") : "/var/lib/huddle/" + u.app + "/data"));
    }
    std::map<std::string, Error> failed;
    if (missing.empty()) return failed;
    RunSpec spec{argv, "", "", "/", {"PATH=/usr/bin:/bin:/usr/sbin:/sbin", "LANG=C.UTF-8"}, 60 * kUsecPerSec, ""};
    std::string output;
    auto r = run_process(spec, [&](const std::string& line) {
        output += (output.empty() ? "" : "; ") + line;
        spdlog::info("systemd-sysusers: {}", line);
    });
    for (const AppUser* u : missing) {
        if (exists(u->user)) {
            spdlog::info("made the system user {} {} {}", u->user, u->fetch ? "to fetch for app" : "for app", u->app);
            continue;
        }
        std::string why = !r ? "systemd-sysusers could not run: " + r.error().message
                             : "systemd-sysusers did not make it (" + (r->ok() ? std::string("exit 0") : r->describe()) +
                                   (output.empty() ? "" : ": " + output) + ")";
        std::string role = u->fetch ? " that fetches for app " : " that app ";
        std::string fix = u->fetch ? "; make this user (a system user with a group of its own name)"
                                   : "; set user = in the config to an existing user, or make this one";
        failed.emplace(u->user, Error{-ENOENT, "cannot make the system user " + u->user + role + u->app + (u->fetch ? "" : " runs as") + ": " + why + fix});
    }
    return failed;
}

}  // namespace huddle::sys
