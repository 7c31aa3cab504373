// Each app runs as a system user of its own unless its config names one:
// "huddle-" and the app's name, made by huddle-gen with systemd-sysusers.
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

}  // namespace huddle
