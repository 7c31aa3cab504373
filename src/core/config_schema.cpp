// The key schema: which sections and keys a config may hold, and the index
// of a document's entries by section and key.
#include <fmt/format.h>

#include <algorithm>

#include "config_internal.hpp"

namespace huddle {
namespace config_detail {

const std::vector<SectionSpec>& schema() {
    static const std::vector<SectionSpec> s = {
        {"repository", {"remote path", "branch", "tag", "commit", "local path", "remote", "executable", "type", "credential", "known hosts", "submodules", "signers", "keyring", "verify", "rewind"}},
        {"timing", {"minimum", "maximum"}},
        {"application", {"start", "executable", "user", "group", "environment", "environment file", "type", "restart", "stop timeout", "working directory", "sandbox"}},
        {"deploy", {"build", "verify", "timeout", "settle", "health command", "health timeout", "keep"}},
        {"scripts", {"pre-pull", "post-pull"}},
        {"test", {}},  // Huddle's reserved section: any key, see check_test()
        {"watchdog", {"period", "host", "port", "request", "response"}},
        {"limits", {"memory", "tasks", "fetch", "release"}},
    };
    return s;
}

void Interpreter::index(const RawDoc& doc) {
    std::vector<std::string> section_names;
    for (const auto& s : schema()) section_names.push_back(s.name);
    for (const auto& sec : doc.sections) {
        if (sec.defaults) continue;  // INI's [DEFAULT]: already inherited by the sections (ini_defaults.hpp)
        std::string sn = normalize_key(sec.name);
        const SectionSpec* spec = nullptr;
        for (const auto& s : schema())
            if (normalize_key(s.name) == sn) spec = &s;
        if (!spec && sec.name.size() > kMaxKeyBytes) {
            unknown_section_ = true;
            diags_.error(sec.loc, "[" + shorten(sec.name) + "]", fmt::format("unknown section (a name {} bytes long)", sec.name.size()));
            continue;
        }
        if (!spec) {
            unknown_section_ = true;
            std::string hint = did_you_mean(sec.name, section_names);
            diags_.error(sec.loc, "[" + sec.name + "]",
                         "unknown section" + (hint.empty() ? "; sections are [repository], [timing], [application], [deploy], [scripts], [watchdog], [limits]"
                                                           : "; did you mean [" + hint + "]?"));
            continue;
        }
        if (auto prev = sections_.find(spec->name); prev != sections_.end()) {
            diags_.error(sec.loc, "[" + sec.name + "]",
                         fmt::format("section given twice (first at line {}); merge them into one", prev->second->loc.line));
            continue;
        }
        sections_[spec->name] = &sec;
        for (const auto& e : sec.entries) {
            std::string label = "[" + std::string(spec->name) + "] " + e.key;
            std::string nk = normalize_key(e.key);
            if (std::string(spec->name) == "test") {
                found_.emplace("test/" + nk, Found{&sec, &e, label});
                continue;
            }
            bool known = std::any_of(spec->keys.begin(), spec->keys.end(), [&](const std::string& k) { return normalize_key(k) == nk; });
            if (!known && e.key.size() > kMaxKeyBytes) {
                diags_.error(e.loc, "[" + std::string(spec->name) + "] " + shorten(e.key), fmt::format("unknown key (a name {} bytes long)", e.key.size()));
                continue;
            }
            if (!known) {
                std::string hint = did_you_mean(e.key, spec->keys);
                if (!hint.empty()) hinted_.insert(std::string(spec->name) + "/" + normalize_key(hint));
                std::string elsewhere;
                for (const auto& other : schema())
                    for (const auto& k : other.keys)
                        if (normalize_key(k) == nk && other.name != spec->name) elsewhere = other.name;
                std::string msg = "unknown key";
                if (!elsewhere.empty())
                    msg += "; '" + e.key + "' belongs in [" + elsewhere + "]";
                else if (!hint.empty())
                    msg += "; did you mean '" + hint + "'?";
                else
                    msg += "; [" + std::string(spec->name) + "] takes: " + fmt::format("{}", fmt::join(spec->keys, ", "));
                diags_.error(e.loc, label, msg);
                continue;
            }
            std::string id = std::string(spec->name) + "/" + nk;
            if (auto prev = found_.find(id); prev != found_.end()) {
                diags_.error(e.loc, label, fmt::format("set twice (first at line {}); keep one", prev->second.entry->loc.line));
                continue;
            }
            found_.emplace(id, Found{&sec, &e, label});
        }
    }
}

}  // namespace config_detail

std::vector<std::pair<std::string, std::vector<std::string>>> known_keys() {
    std::vector<std::pair<std::string, std::vector<std::string>>> out;
    for (const auto& s : config_detail::schema()) out.emplace_back(s.name, s.keys);
    return out;
}

}  // namespace huddle
