#include "log.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <mutex>

namespace huddle::sys {
namespace {

thread_local std::vector<LogField> t_fields;

int priority_of(spdlog::level::level_enum l) {
    switch (l) {
    case spdlog::level::trace:
    case spdlog::level::debug: return 7;
    case spdlog::level::info: return 6;
    case spdlog::level::warn: return 4;
    case spdlog::level::err: return 3;
    case spdlog::level::critical: return 2;
    default: return 6;
    }
}

class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit JournalSink(std::string ident) : ident_(std::move(ident)) {}

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        std::vector<std::string> lines;
        lines.push_back("MESSAGE=" + std::string(msg.payload.data(), msg.payload.size()));
        lines.push_back("PRIORITY=" + std::to_string(priority_of(msg.level)));
        lines.push_back("SYSLOG_IDENTIFIER=" + ident_);
        for (const auto& [k, v] : t_fields) lines.push_back(k + "=" + v);
        std::vector<iovec> iov;
        for (auto& l : lines) iov.push_back({l.data(), l.size()});
        sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
    }
    void flush_() override {}

private:
    std::string ident_;
};

}  // namespace

void log_setup(const char* identifier, LogTarget target) {
    bool journal = target == LogTarget::journal || (target == LogTarget::automatic && !::isatty(STDERR_FILENO));
    std::shared_ptr<spdlog::logger> logger;
    if (journal) {
        logger = std::make_shared<spdlog::logger>(identifier, std::make_shared<JournalSink>(identifier));
    } else {
        logger = spdlog::stderr_color_mt(identifier);
        logger->set_pattern("%^%l%$: %v");
    }
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
}

ScopedLogFields::ScopedLogFields(std::vector<LogField> fields) : count_(fields.size()) {
    for (auto& f : fields) t_fields.push_back(std::move(f));
}

ScopedLogFields::~ScopedLogFields() { t_fields.resize(t_fields.size() - count_); }

}  // namespace huddle::sys
