#include "sources.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace huddle {

const std::vector<std::string> kDefaultSearchPath = {"/etc/huddle", "/run/huddle", "/usr/lib/huddle"};

namespace {
bool ends_with(const std::string& s, const std::string& suf) {
    return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}
}  // namespace

std::optional<Format> format_of(const std::string& f) {
    if (ends_with(f, ".json")) return Format::json;
    if (ends_with(f, ".ini")) return Format::ini;
    if (ends_with(f, ".toml")) return Format::toml;
    return std::nullopt;
}

std::string app_name_of(const std::string& f) {
    size_t dot = f.rfind('.');
    return dot == std::string::npos ? f : f.substr(0, dot);
}

std::string ignore_reason(const std::string& f) {
    if (f.empty()) return "empty name";
    if (f[0] == '_') return "names starting with '_' are ignored (Huddle's rule for disabled configs)";
    if (f[0] == '.') return "hidden file";
    if (ends_with(f, "~") || ends_with(f, ".swp") || ends_with(f, ".swo") || ends_with(f, ".bak") || ends_with(f, ".orig") ||
        f.find(".dpkg-") != std::string::npos || f.find(".ucf-") != std::string::npos || ends_with(f, ".tmp"))
        return "editor or package-manager backup";
    if (!format_of(f)) return "not a .json, .ini or .toml file";
    return "";
}

Selection select_sources(const std::vector<DirListing>& dirs) {
    Selection sel;
    std::map<std::string, ConfigSource> chosen;
    std::set<std::string> decided;  // apps already settled by a higher directory
    for (const auto& d : dirs) {
        std::map<std::string, std::vector<const DirEntry*>> by_app;
        for (const auto& e : d.entries) {
            if (!e.regular) continue;
            std::string why = ignore_reason(e.name);
            if (!why.empty()) {
                // Files that look like configs but are skipped deserve a word;
                // editor droppings do not.
                if (format_of(e.name) && e.name[0] == '_')
                    sel.diags.notice({d.dir + "/" + e.name, 0, 0}, "", "ignored: " + why);
                continue;
            }
            by_app[app_name_of(e.name)].push_back(&e);
        }
        for (auto& [app, entries] : by_app) {
            if (decided.count(app)) continue;
            decided.insert(app);
            if (entries.size() > 1) {
                std::string names;
                for (const auto* e : entries) names += (names.empty() ? "" : ", ") + e->name;
                for (const auto* e : entries)
                    sel.diags.error({d.dir + "/" + e->name, 0, 0}, "",
                                    "app '" + app + "' is configured twice in one directory (" + names + "); keep one file, neither is applied");
                sel.broken_apps.push_back(app);
                continue;
            }
            const DirEntry* e = entries[0];
            if (e->masked) {
                sel.masked_apps.push_back(app);
                continue;
            }
            chosen[app] = ConfigSource{app, d.dir + "/" + e->name, *format_of(e->name)};
        }
    }
    for (auto& [app, src] : chosen) sel.sources.push_back(src);
    std::sort(sel.broken_apps.begin(), sel.broken_apps.end());
    return sel;
}

}  // namespace huddle
