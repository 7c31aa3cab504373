#pragma once
#include <string>
#include <string_view>

namespace huddle {

// What `systemd-escape STRING` prints (unit_name_escape()).
std::string unit_name_escape(std::string_view s);

// Empty if NAME can be an app name; otherwise why not, and what to do.
std::string check_app_name(std::string_view name);

constexpr size_t kMaxAppName = 64;

}  // namespace huddle
