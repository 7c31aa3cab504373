// Invariants the fuzz targets check on what the core returns. A violated one
// aborts: libFuzzer then saves the input and the stack names the check. The
// targets print nothing themselves.
//
// Each check belongs to a group. HUDDLE_FUZZ_SKIP=GROUP,GROUP turns groups
// off, to fuzz past a known finding while it is being fixed (dev/fuzz says
// so when it is set). Groups: diag, diag-loc, model, empty-program, plan, render,
// exec-words, env-words, json, toml-unicode.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "core/config.hpp"
#include "core/duration.hpp"
#include "core/plan.hpp"
#include "core/render.hpp"

// Not assert(): stays on whatever NDEBUG says.
#define FUZZ_CHECK(group, cond)                                        \
    do {                                                               \
        if (!(cond) && huddle::fuzz::enabled(group)) std::abort(); \
    } while (0)

namespace huddle::fuzz {

inline bool enabled(std::string_view group) {
    static const std::string skip = [] {
        const char* e = std::getenv("HUDDLE_FUZZ_SKIP");
        return "," + std::string(e ? e : "") + ",";
    }();
    return skip.find("," + std::string(group) + ",") == std::string::npos;
}

// toml++ 3.3's is_non_ascii_horizontal_whitespace() reaches
// __builtin_unreachable for U+00A1..U+0499, U+2C5E..U+3057 (but U+3000) and
// U+FB26..U+FEFE where it looks for whitespace (a bare key such as "päth";
// src/core/parse_toml.cpp keeps such text from it). With toml-unicode
// skipped, TOML text holding such a code point is not parsed at all.
inline bool toml_unicode_skipped(const std::string& text) {
    if (enabled("toml-unicode")) return false;
    for (size_t i = 0; i < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        char32_t cp = 0;
        if ((c >> 5) == 0x6 && i + 1 < text.size())
            cp = (char32_t(c & 0x1f) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3f);
        else if ((c >> 4) == 0xe && i + 2 < text.size())
            cp = (char32_t(c & 0x0f) << 12) | (char32_t(static_cast<unsigned char>(text[i + 1]) & 0x3f) << 6) |
                 (static_cast<unsigned char>(text[i + 2]) & 0x3f);
        if ((cp >= 0xa1 && cp <= 0x499) || (cp >= 0x2c5e && cp <= 0x3057 && cp != 0x3000) || (cp >= 0xfb26 && cp <= 0xfefe)) return true;
    }
    return false;
}

// Lines as an editor counts them: "\n", "\r\n" and a lone "\r" each end one
// (INI reads a lone CR as a line break, as Python's configparser did).
inline size_t line_count(const std::string& text) {
    size_t n = 1;
    for (size_t i = 0; i < text.size(); ++i)
        if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))) ++n;
    return n;
}

inline bool one_line(const std::string& s) { return s.find_first_of(std::string("\n\r\0", 3)) == std::string::npos; }

// Every diagnostic points into the file: a line from 1 to the input's line
// count (the app name is valid here, so nothing is reported at line 0), a
// column that is 0 (unknown) or more, and a message.
inline void check_diagnostics(const Diagnostics& diags, const std::string& text, const std::string& file) {
    const size_t lines = line_count(text);
    for (const auto& d : diags.items()) {
        FUZZ_CHECK("diag", d.loc.file == file);
        FUZZ_CHECK("diag-loc", d.loc.line >= 1);
        FUZZ_CHECK("diag-loc", static_cast<size_t>(d.loc.line) <= lines);
        FUZZ_CHECK("diag-loc", d.loc.col >= 0);
        FUZZ_CHECK("diag", !d.message.empty());
        FUZZ_CHECK("diag", !format_diagnostic(d).empty());
    }
    FUZZ_CHECK("diag", diags.sorted().size() == diags.items().size());
}

// A model is what load_config promises: validated, defaults applied, and
// nothing that ends up in a unit property can hold a line break.
inline void check_model(const LoadResult& r, const std::string& name, const std::string& file, Format format) {
    FUZZ_CHECK("model", r.config.has_value() == !r.diags.has_errors());
    if (!r.config) return;
    const AppConfig& c = *r.config;
    FUZZ_CHECK("model", c.name == name && c.file == file && c.format == format);
    FUZZ_CHECK("model", !c.repo.remote_path.empty() && one_line(c.repo.remote_path));
    FUZZ_CHECK("model", !c.repo.local_path.empty() && c.repo.local_path[0] == '/' && one_line(c.repo.local_path));
    FUZZ_CHECK("model", c.repo.branch.empty() || c.repo.tag.empty());
    FUZZ_CHECK("model", c.timing.minimum >= kUsecPerSec);
    FUZZ_CHECK("model", !c.timing.maximum || *c.timing.maximum >= c.timing.minimum);
    FUZZ_CHECK("model", c.deploy.keep >= 1 && c.deploy.keep <= 100);
    FUZZ_CHECK("model", c.deploy.timeout >= kUsecPerSec && c.deploy.health_timeout >= kUsecPerSec);
    for (const auto& w : c.deploy.health_command) FUZZ_CHECK("model", one_line(w));
    FUZZ_CHECK("empty-program", c.deploy.health_command.empty() || !c.deploy.health_command[0].empty());
    if (c.app) {
        const ApplicationConfig& a = *c.app;
        FUZZ_CHECK("model", !a.start.empty());
        FUZZ_CHECK("empty-program", a.start.empty() || !a.start[0].empty());
        for (const auto& w : a.start) FUZZ_CHECK("model", one_line(w));
        FUZZ_CHECK("model", !a.user.empty() && one_line(a.user) && one_line(a.group));
        FUZZ_CHECK("model", a.type == "simple" || a.type == "exec" || a.type == "notify");
        FUZZ_CHECK("model", one_line(a.restart) && one_line(a.environment_file));
        FUZZ_CHECK("model", !a.working_directory.empty() && a.working_directory[0] == '/' && one_line(a.working_directory));
        for (const auto& [k, v] : a.environment) {
            FUZZ_CHECK("model", !k.empty() && k.find('=') == std::string::npos && one_line(k));
            FUZZ_CHECK("model", one_line(v));
        }
    }
    if (c.watchdog) {
        FUZZ_CHECK("model", c.app.has_value());
        FUZZ_CHECK("model", c.watchdog->port >= 1);
        FUZZ_CHECK("model", c.watchdog->period >= kUsecPerSec);
    }
}

// How systemd reads the words of an ExecStart= or Environment= value
// (extract_first_word with EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE, then the
// specifier expansion of each word, where "%%" is "%"). Nullopt where systemd
// would refuse the line or expand a specifier.
inline std::optional<std::vector<std::string>> systemd_words(std::string_view s) {
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    std::vector<std::string> out;
    size_t i = 0;
    for (;;) {
        while (i < s.size() && space(s[i])) ++i;
        if (i == s.size()) break;
        std::string w;
        char quote = 0;
        for (; i < s.size(); ++i) {
            char c = s[i];
            if (!quote && space(c)) break;
            if (c == '\\') {
                if (++i == s.size()) return std::nullopt;
                switch (s[i]) {
                case 'n': w += '\n'; break;
                case 't': w += '\t'; break;
                case 's': w += ' '; break;
                case '\\': case '"': case '\'': w += s[i]; break;
                default: return std::nullopt;  // escapes quote_exec_argv never writes
                }
            } else if (!quote && (c == '"' || c == '\'')) {
                quote = c;
            } else if (quote && c == quote) {
                quote = 0;
            } else {
                w += c;
            }
        }
        if (quote) return std::nullopt;
        std::string expanded;
        for (size_t k = 0; k < w.size(); ++k) {
            if (w[k] == '%') {
                if (k + 1 == w.size() || w[k + 1] != '%') return std::nullopt;
                ++k;
            }
            expanded += w[k];
        }
        out.push_back(std::move(expanded));
    }
    return out;
}

template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};

// Lines render_unit writes for a property: one per item of a list of
// commands, files, timers or conditions and per Environment= variable; one
// for any other value (a scalar, a word list, a name list).
inline size_t expected_lines(const Property& p) {
    return std::visit(
        [&](const auto& v) -> size_t {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::vector<std::string>>)
                return p.name == "Environment" ? v.size() : 1;
            else if constexpr (is_vector<T>::value)
                return v.size();
            else
                return 1;
        },
        p.value);
}

// The unit-file text has exactly one line per value the plan holds: a value
// cannot start a line of its own (a new section or key) by holding a line
// break, and the commands and variables read back as systemd reads them.
inline void check_rendered_unit(const UnitPlan& u, const std::string& text, const std::string& file) {
    FUZZ_CHECK("render", text.find('\0') == std::string::npos && text.find('\r') == std::string::npos);
    FUZZ_CHECK("render", !text.empty() && text.back() == '\n');
    std::vector<std::string_view> lines;
    for (size_t pos = 0; pos < text.size();) {
        size_t end = text.find('\n', pos);
        lines.push_back(std::string_view(text).substr(pos, end - pos));
        pos = end + 1;
    }
    FUZZ_CHECK("render", lines.at(0) == "# " + u.name + " (transient, made by huddle-gen from " + file + ")");
    size_t expected = 0;
    const std::vector<ExecCommand>* exec = nullptr;
    const std::vector<std::string>* env = nullptr;
    for (const auto& p : u.properties) {
        expected += expected_lines(p);
        if (p.name == "ExecStart") exec = &std::get<std::vector<ExecCommand>>(p.value);
        if (p.name == "Environment") env = &std::get<std::vector<std::string>>(p.value);
    }
    size_t keys = 0, execs = 0, envs = 0;
    for (size_t i = 1; i < lines.size(); ++i) {
        std::string_view l = lines[i];
        if (l.empty()) {
            FUZZ_CHECK("render", i + 1 < lines.size() && lines[i + 1].size() > 2 && lines[i + 1][0] == '[');
            continue;
        }
        if (l == "[Unit]" || l == "[Service]" || l == "[Timer]") continue;
        size_t eq = l.find('=');
        FUZZ_CHECK("render", eq != std::string_view::npos && eq > 0);
        FUZZ_CHECK("render", std::all_of(l.begin(), l.begin() + eq, [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }));
        ++keys;
        std::string_view key = l.substr(0, eq), value = l.substr(eq + 1);
        if (key == "ExecStart") {
            FUZZ_CHECK("render", exec && execs < exec->size());
            if (!exec || execs >= exec->size()) continue;
            const ExecCommand& c = (*exec)[execs++];
            FUZZ_CHECK("render", !c.ignore_failure && !c.argv.empty() && c.argv[0] == c.path);
            auto words = systemd_words(value);
            FUZZ_CHECK("exec-words", words && *words == c.argv);
        } else if (key == "Environment") {
            FUZZ_CHECK("render", env && envs < env->size());
            if (!env || envs >= env->size()) continue;
            auto words = systemd_words(value);
            FUZZ_CHECK("env-words", words && words->size() == 1 && (*words)[0] == (*env)[envs]);
            ++envs;
        }
    }
    FUZZ_CHECK("render", keys == expected);
    FUZZ_CHECK("render", execs == (exec ? exec->size() : 0) && envs == (env ? env->size() : 0));
}

// A plan of a valid model: the units its sections call for, each stamped
// with the digest of its properties; the same plan twice; unit files and JSON
// that read back.
inline void check_plan(const AppConfig& c, const PlanContext& ctx) {
    AppPlan p = plan_app(c, ctx);
    FUZZ_CHECK("plan", p.app == c.name && p.file == c.file);
    size_t want = (c.app ? 1 : 0) + 2 + (c.app && c.watchdog ? 2 : 0);
    FUZZ_CHECK("plan", p.units.size() == want);
    for (const auto& u : p.units) {
        FUZZ_CHECK("plan", one_line(u.name));
        std::string fp = unit_fingerprint(u);
        size_t descriptions = 0;
        for (const auto& pr : u.properties) {
            if (pr.name == "Description") {
                ++descriptions;
                const auto& d = std::get<std::string>(pr.value);
                FUZZ_CHECK("plan", fingerprint_of_description(d) == fp);
            }
            if (const auto* t = std::get_if<uint64_t>(&pr.value); t && *t <= 31557600ULL * kUsecPerSec * 10) {
                auto back = parse_timespan(format_timespan(*t));
                FUZZ_CHECK("plan", back.usec && *back.usec == *t);
            }
        }
        FUZZ_CHECK("plan", descriptions == 1);
        check_rendered_unit(u, render_unit(u, p.file), p.file);
    }
    AppPlan again = plan_app(c, ctx);
    FUZZ_CHECK("plan", again.units.size() == p.units.size());
    for (size_t i = 0; i < p.units.size(); ++i) FUZZ_CHECK("plan", unit_fingerprint(again.units[i]) == unit_fingerprint(p.units[i]));

    std::string all = render_app(p);
    FUZZ_CHECK("plan", !all.empty());
    nlohmann::json j = plan_to_json(p);
    std::string dumped;
    try {
        dumped = j.dump();  // throws on text that is not UTF-8
    } catch (const nlohmann::json::type_error&) {
        FUZZ_CHECK("json", false);
        return;
    }
    FUZZ_CHECK("json", nlohmann::json::parse(dumped) == j);
    FUZZ_CHECK("json", j.at("units").size() == p.units.size());
}

}  // namespace huddle::fuzz
