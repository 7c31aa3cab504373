#pragma once
#include <string>
#include <string_view>

namespace huddle {

// What `systemd-escape STRING` prints (unit_name_escape()).
std::string unit_name_escape(std::string_view s);

// Empty if NAME can be an app name; otherwise why not, and what to do.
std::string check_app_name(std::string_view name);

constexpr size_t kMaxAppName = 64;

// huddle's units are PREFIX + unit_name_escape(APP) + SUFFIX: the app's
// service, its poll timer and service, its watchdog timer and service.
inline constexpr std::string_view kAppUnitPrefix = "huddle@";              // .service
inline constexpr std::string_view kFetchUnitPrefix = "huddle-fetch@";      // .timer, .service
inline constexpr std::string_view kWatchdogUnitPrefix = "huddle-watchdog@";  // .timer, .service
inline constexpr std::string_view kServiceSuffix = ".service";
inline constexpr std::string_view kTimerSuffix = ".timer";

}  // namespace huddle
