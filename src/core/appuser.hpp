// Each app runs as a system user of its own unless its config names one:
// "huddle-" and the app's name, made by huddle-gen with systemd-sysusers.
// Each app's remote is talked to by another user of its own.
#pragma once
#include <string>

namespace huddle {

// The longest user name every tool takes (utmp's 32 bytes with the NUL).
inline constexpr size_t kMaxUserName = 31;

// "huddle-APP" when APP is lower-case letters, digits, '_' and '-' and the
// result fits kMaxUserName; otherwise what fits of that, lower-cased, with
// '.' and '+' as '-', and "-" and 8 hex digits of a hash of the full name,
// so that two apps never share a user ("Web" and "web", long names alike).
std::string default_app_user(const std::string& app);

// The user that talks to the app's remote (src/sys/fetcher.hpp):
// "huddlefetch-APP", named by the same rule. Never "huddle-" and a name,
// so that no app's user is another app's fetch user.
std::string default_fetch_user(const std::string& app);

}  // namespace huddle
