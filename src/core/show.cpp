#include "show.hpp"

#include <fmt/format.h>

#include "keys.hpp"

namespace huddle {
namespace {

std::string text_of(const RawValue& v) {
    switch (v.kind) {
    case RawValue::Kind::string: return v.str;
    case RawValue::Kind::integer: return std::to_string(v.integer);
    case RawValue::Kind::floating: return fmt::format("{}", v.floating);
    case RawValue::Kind::boolean: return v.boolean ? "true" : "false";
    case RawValue::Kind::list: {
        std::string s;
        for (size_t i = 0; i < v.list.size(); ++i) s += (i ? "\n" : "") + text_of(v.list[i]);
        return s;
    }
    case RawValue::Kind::table: {
        std::string s;
        for (size_t i = 0; i < v.table.size(); ++i) s += (i ? "\n" : "") + v.table[i].first + " = " + text_of(v.table[i].second);
        return s;
    }
    }
    return {};
}

class Builder {
public:
    explicit Builder(const RawDoc& doc) : doc_(doc) {}

    // The setting SECTION.KEY, read from the entries SOURCES ("section/key").
    Setting& add(const char* section, const char* key, std::initializer_list<const char*> sources = {}) {
        Setting s;
        s.section = section;
        s.key = key;
        std::vector<std::string> wanted(sources.begin(), sources.end());
        if (wanted.empty()) wanted.push_back(std::string(section) + "/" + key);
        for (const std::string& want : wanted) {
            size_t slash = want.find('/');
            for (const auto& sec : doc_.sections)
                if (!sec.defaults && normalize_key(sec.name) == want.substr(0, slash))
                    for (const auto& e : sec.entries)
                        if (normalize_key(e.key) == normalize_key(want.substr(slash + 1))) s.from.push_back(e.loc);
        }
        out_.push_back(std::move(s));
        return out_.back();
    }
    void text(const char* section, const char* key, const std::string& v, std::initializer_list<const char*> sources = {}) {
        add(section, key, sources).text = v;
    }
    void list(const char* section, const char* key, const std::vector<std::string>& v, std::initializer_list<const char*> sources = {}) {
        Setting& s = add(section, key, sources);
        s.kind = Setting::Kind::list;
        s.items = v;
    }
    void argv(const char* section, const char* key, const std::vector<std::string>& v, std::initializer_list<const char*> sources = {}) {
        list(section, key, v, sources);
        out_.back().kind = Setting::Kind::argv;
    }
    void number(const char* section, const char* key, int64_t v) {
        Setting& s = add(section, key);
        s.kind = Setting::Kind::number;
        s.number = v;
    }
    void span(const char* section, const char* key, std::optional<usec_t> v) {
        Setting& s = add(section, key);
        if (v)
            s.text = format_timespan(*v);
        else
            s.kind = Setting::Kind::unset;
    }
    std::vector<Setting> take() { return std::move(out_); }

private:
    const RawDoc& doc_;
    std::vector<Setting> out_;
};

}  // namespace

std::vector<ReadEntry> read_entries(const RawDoc& doc) {
    std::vector<ReadEntry> out;
    for (const auto& sec : doc.sections)
        for (const auto& e : sec.entries) out.push_back({sec.name, e.key, e.loc, text_of(e.value), e.written, e.inherited});
    return out;
}

std::vector<Setting> settings(const AppConfig& c, const RawDoc& doc) {
    Builder b(doc);
    const RepositoryConfig& r = c.repo;
    b.text("repository", "remote path", r.remote_path);
    b.text("repository", "branch", r.branch);
    b.text("repository", "tag", r.tag);
    b.text("repository", "commit", r.commit);
    b.text("repository", "local path", r.local_path);
    b.text("repository", "credential", r.credential);
    b.text("repository", "known hosts", r.known_hosts);
    b.text("repository", "signers", r.signers);
    b.text("repository", "keyring", r.keyring);
    b.text("repository", "verify", verify_name(r.verify));
    b.text("repository", "rewind", r.rewind ? "true" : "false");
    b.span("timing", "minimum", c.timing.minimum);
    b.span("timing", "maximum", c.timing.maximum);
    if (c.app) {
        const ApplicationConfig& a = *c.app;
        b.argv("application", "start", a.start, {"application/start", "application/executable"});
        b.text("application", "user", a.user);
        b.text("application", "group", a.group);
        std::vector<std::string> env;
        for (const auto& [k, v] : a.environment) env.push_back(k + "=" + v);
        b.list("application", "environment", env);
        b.text("application", "environment file", a.environment_file);
        b.text("application", "type", a.type);
        b.text("application", "restart", a.restart);
        b.span("application", "stop timeout", a.stop_timeout);
        b.text("application", "working directory", a.working_directory);
    }
    const DeployConfig& d = c.deploy;
    b.list("scripts", "pre-pull", d.pre_pull);
    b.list("deploy", "build", d.build, {"deploy/build", "scripts/post-pull"});
    b.list("deploy", "verify", d.verify);
    b.span("deploy", "timeout", d.timeout);
    b.span("deploy", "settle", d.settle);
    b.argv("deploy", "health command", d.health_command);
    b.span("deploy", "health timeout", d.health_timeout);
    b.number("deploy", "keep", d.keep);
    b.text("limits", "memory", format_size(c.limits.memory));
    b.text("limits", "tasks", c.limits.tasks == kSizeInfinity ? "infinity" : std::to_string(c.limits.tasks));
    b.text("limits", "fetch", format_size(c.limits.fetch));
    b.text("limits", "release", format_size(c.limits.release));
    if (c.watchdog) {
        const WatchdogConfig& w = *c.watchdog;
        b.span("watchdog", "period", w.period);
        b.text("watchdog", "host", w.host);
        b.number("watchdog", "port", w.port);
        b.text("watchdog", "request", w.request);
        b.text("watchdog", "response", w.response);
    }
    return b.take();
}

}  // namespace huddle
