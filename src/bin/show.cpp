#include "show.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "cli_common.hpp"
#include "core/show.hpp"

namespace huddle::cli {
namespace {

const char* format_key(Format f) { return f == Format::json ? "json" : f == Format::ini ? "ini" : "toml"; }

std::string where(const Loc& l) { return l.file + ":" + std::to_string(l.line); }

std::string from_text(const Setting& s) {
    if (s.from.empty()) return "default";
    std::string out;
    for (const auto& l : s.from) out += (out.empty() ? "" : ", ") + where(l);
    return out;
}

// A word as a shell would need it to be one word again.
std::string quoted(const std::string& w) {
    if (!w.empty() && w.find_first_of(" \t'\"\\$`;&|<>()*?[]#~") == std::string::npos) return w;
    std::string out = "'";
    for (char c : w) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::vector<std::string> value_lines(const Setting& s) {
    switch (s.kind) {
    case Setting::Kind::argv: {
        std::string line;
        for (const auto& w : s.items) line += (line.empty() ? "" : " ") + quoted(w);
        return {line};
    }
    case Setting::Kind::text: return {s.text};
    case Setting::Kind::number: return {std::to_string(s.number)};
    case Setting::Kind::unset: return {""};
    case Setting::Kind::list: return s.items.empty() ? std::vector<std::string>{""} : s.items;
    }
    return {""};
}

nlohmann::json value_json(const Setting& s) {
    switch (s.kind) {
    case Setting::Kind::text: return s.text;
    case Setting::Kind::number: return s.number;
    case Setting::Kind::unset: return nullptr;
    case Setting::Kind::list:
    case Setting::Kind::argv: return s.items;
    }
    return nullptr;
}

// "key = first line   # from", further lines aligned under the first.
void print_text(const sys::LoadedApp& a) {
    const auto& r = a.result;
    std::printf("# %s: %s (%s)%s\n", a.source.app.c_str(), a.source.path.c_str(), format_name(a.source.format),
                r.config ? ", as huddle read it: every setting, with the line it came from or 'default'" : " has errors; the entries as read:");
    auto line = [](const std::string& left, const std::string& note) {
        std::printf("%-48s # %s\n", left.c_str(), note.c_str());
    };
    if (!r.config) {
        for (const auto& e : read_entries(r.doc)) {
            std::string note = where(e.loc) + (e.inherited ? " ([DEFAULT])" : "") + (e.written ? ", written '" + *e.written + "'" : "");
            line("[" + e.section + "] " + e.key + " = " + e.text, note);
        }
        return;
    }
    std::string section;
    for (const auto& s : settings(*r.config, r.doc)) {
        if (s.section != section) std::printf("%s[%s]\n", section.empty() ? "" : "\n", (section = s.section).c_str());
        auto lines = value_lines(s);
        std::string lead = s.key + " = ";
        line(lead + lines[0], s.kind == Setting::Kind::unset ? "not set" : from_text(s));
        for (size_t i = 1; i < lines.size(); ++i) std::printf("%s%s\n", std::string(lead.size(), ' ').c_str(), lines[i].c_str());
    }
}

nlohmann::json to_json(const sys::LoadedApp& a) {
    const auto& r = a.result;
    nlohmann::json diags = nlohmann::json::array(), read = nlohmann::json::array(), config = nlohmann::json::array();
    for (const auto& d : r.diags.sorted())
        diags.push_back({{"severity", severity_name(d.severity)}, {"file", d.loc.file}, {"line", d.loc.line}, {"column", d.loc.col},
                         {"key", d.key}, {"message", d.message}});
    for (const auto& e : read_entries(r.doc))
        read.push_back({{"section", e.section}, {"key", e.key}, {"file", e.loc.file}, {"line", e.loc.line}, {"text", e.text},
                        {"raw", e.written.value_or(e.text)}, {"default", e.inherited}});
    if (r.config)
        for (const auto& s : settings(*r.config, r.doc))
            config.push_back({{"section", s.section}, {"key", s.key}, {"value", value_json(s)}, {"from", from_text(s)}});
    return {{"app", a.source.app}, {"file", a.source.path}, {"format", format_key(a.source.format)}, {"valid", r.config.has_value()},
            {"diagnostics", diags}, {"read", read}, {"config", config}};
}

}  // namespace

int show(const std::string& arg, const std::vector<std::string>& dirs, bool json) {
    std::optional<sys::LoadedApp> app;
    if (arg.find('/') != std::string::npos) {
        app = sys::load_file(arg);
    } else {
        sys::LoadedApps all = sys::load_apps(dirs);
        for (auto& a : all.apps)
            if (a.source.app == arg) app = std::move(a);
        if (!app) {
            print_diagnostics(all.diags, stderr);
            std::fprintf(stderr, "huddlectl: no config for app '%s' in the search path; check the name (huddlectl validate lists them), or give the file's path\n",
                         arg.c_str());
            return kConfigError;
        }
    }
    if (json) {
        std::cout << to_json(*app).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
        print_diagnostics(app->result.diags, stderr);
        print_text(*app);
    }
    return app->result.config ? kOk : kConfigError;
}

}  // namespace huddle::cli
