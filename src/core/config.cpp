// The config loader's top level: text to a RawDoc to an AppConfig, and the
// checks across the apps of one search path.
#include <fmt/format.h>

#include <map>

#include "config_internal.hpp"
#include "unitname.hpp"

namespace huddle {
namespace config_detail {

std::optional<AppConfig> Interpreter::run(const RawDoc& doc) {
    AppConfig c;
    c.name = name_;
    c.file = file_;
    c.format = format_;
    if (std::string why = check_app_name(name_); !why.empty()) diags_.error({file_, 0, 0}, "", why);
    index(doc);
    repository(c);
    timing(c);
    application(c);
    deploy(c);
    watchdog(c);
    limits(c);
    check_test();
    if (diags_.has_errors()) return std::nullopt;
    return c;
}

}  // namespace config_detail

std::string default_local_path(const std::string& app_name) { return "/var/lib/huddle/" + app_name + "/current"; }

LoadResult interpret(const std::string& app_name, const std::string& file, Format format, const RawDoc& doc, Diagnostics diags) {
    LoadResult r;
    config_detail::Interpreter in(app_name, file, format, diags);
    r.config = in.run(doc);
    r.diags = std::move(diags);
    return r;
}

namespace {
// Offset of the first byte that is not part of valid UTF-8, or npos. Strict,
// as RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
size_t invalid_utf8(const std::string& s) {
    size_t i = 0;
    while (i < s.size()) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        size_t n = c < 0x80 ? 0 : c < 0xc2 ? 4 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : c < 0xf5 ? 3 : 4;
        if (n == 4 || i + n >= s.size() + (n ? 0 : 1)) return i;
        // The second byte's range is narrower after E0 (overlong), ED
        // (surrogates), F0 (overlong) and F4 (above U+10FFFF).
        unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80, hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
        if (n > 0 && (static_cast<unsigned char>(s[i + 1]) < lo || static_cast<unsigned char>(s[i + 1]) > hi)) return i;
        for (size_t k = 2; k <= n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return i;
        i += n + 1;
    }
    return std::string::npos;
}
}  // namespace

LoadResult load_config(const std::string& app_name, const std::string& file, Format format, const std::string& text) {
    Diagnostics diags;
    if (size_t bad = invalid_utf8(text); bad != std::string::npos) {
        diags.error(loc_of_offset(text, bad, file), "", "the file is not valid UTF-8; save it as UTF-8");
        return {std::nullopt, std::move(diags), {}};
    }
    RawDoc doc = parse_any(format, text, file, diags);
    if (diags.has_errors()) {
        // A syntax error makes the rest guesswork; still report the name.
        if (std::string why = check_app_name(app_name); !why.empty()) diags.error({file, 0, 0}, "", why);
        return {std::nullopt, std::move(diags), std::move(doc)};
    }
    LoadResult r = interpret(app_name, file, format, doc, std::move(diags));
    r.doc = std::move(doc);
    return r;
}

void refuse_shared_local_paths(const std::vector<LoadResult*>& apps) {
    std::map<std::string, std::vector<LoadResult*>> by_path;
    for (LoadResult* a : apps)
        if (a->config && a->config->repo.local_path_loc.line > 0) by_path[a->config->repo.local_path].push_back(a);
    for (auto& [path, users] : by_path) {
        if (users.size() < 2) continue;
        for (LoadResult* a : users) {
            std::string others;
            for (LoadResult* b : users)
                if (b != a) others += fmt::format("{}'{}' ({}:{})", others.empty() ? "" : ", ", b->config->name, b->config->file, b->config->repo.local_path_loc.line);
            a->diags.error(a->config->repo.local_path_loc, "[repository] local path",
                           "'" + path + "' is also the local path of " + others + "; each app needs its own, or they replace each other's release");
        }
    }
    for (auto& [path, users] : by_path)
        if (users.size() > 1)
            for (LoadResult* a : users) a->config.reset();
}

}  // namespace huddle
