// Logging: spdlog everywhere. On a terminal, readable lines on stderr; else
// straight to the journal with structured fields (HUDDLE_APP, MESSAGE_ID, ...)
// taken from the ScopedLogFields alive on the calling thread.
#pragma once
#include <spdlog/spdlog.h>

#include <string>
#include <utility>
#include <vector>

namespace huddle::sys {

using LogField = std::pair<std::string, std::string>;

// Journal message ids of huddle's main events (journalctl MESSAGE_ID=...).
namespace msgid {
constexpr const char* kUnitCreated = "e1fc8568bb0d4f288c485c258da1f2a9";
constexpr const char* kUnitReplaced = "530fb8ca44b449d19e649c303300c63a";
constexpr const char* kUnitRemoved = "d1ad29fb4fa6477c9795fa2ef00d76a0";
constexpr const char* kConfigRejected = "ff02bb9516d041fbb92923f70258787e";
constexpr const char* kUnitFailed = "c7cfb9d737154044bb7a07da647554d1";
constexpr const char* kPollsSlowed = "e87b506ef1244d718d6c22f4780a2eec";
}  // namespace msgid

enum class LogTarget { automatic, console, journal };

void log_setup(const char* identifier, LogTarget target = LogTarget::automatic);

class ScopedLogFields {
public:
    explicit ScopedLogFields(std::vector<LogField> fields);
    ScopedLogFields(std::initializer_list<LogField> fields) : ScopedLogFields(std::vector<LogField>(fields)) {}
    ~ScopedLogFields();
    ScopedLogFields(const ScopedLogFields&) = delete;
    ScopedLogFields& operator=(const ScopedLogFields&) = delete;

private:
    size_t count_;
};

}  // namespace huddle::sys
