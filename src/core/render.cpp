#include "render.hpp"

#include <fmt/format.h>

#include <map>

#include "cmdline.hpp"
#include "overloaded.hpp"

namespace huddle {
namespace {

std::string esc_specifiers(const std::string& s) {
    std::string out;
    for (char c : s) {
        out += c;
        if (c == '%') out += '%';
    }
    return out;
}

std::string quote_word(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
        if (c == '%') out += '%';
    }
    return out + "\"";
}

// CapabilityBoundingSet is a bit mask over capability numbers.
std::string capability_names(uint64_t mask) {
    static const char* const names[] = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
                                        "CAP_SETGID", "CAP_SETUID"};
    std::string out;
    for (unsigned i = 0; i < std::size(names); ++i)
        if (mask & (uint64_t{1} << i)) out += (out.empty() ? "" : " ") + std::string(names[i]);
    return out;  // empty: none; bits past CAP_SETUID are never planned
}

// The unit-file key a D-Bus property is written as, and its section.
struct FileKey {
    const char* section;
    const char* key;
};

const std::map<std::string, FileKey>& file_keys() {
    static const std::map<std::string, FileKey> m = {
        {"Description", {"Unit", "Description"}},
        {"Wants", {"Unit", "Wants"}},
        {"After", {"Unit", "After"}},
        {"Conditions", {"Unit", ""}},
        {"StartLimitIntervalUSec", {"Unit", "StartLimitIntervalSec"}},
        {"Slice", {"Service", "Slice"}},
        {"Type", {"Service", "Type"}},
        {"ExecStart", {"Service", "ExecStart"}},
        {"WorkingDirectory", {"Service", "WorkingDirectory"}},
        {"User", {"Service", "User"}},
        {"Group", {"Service", "Group"}},
        {"Environment", {"Service", "Environment"}},
        {"EnvironmentFiles", {"Service", "EnvironmentFile"}},
        {"StateDirectory", {"Service", "StateDirectory"}},
        {"RuntimeDirectory", {"Service", "RuntimeDirectory"}},
        {"RuntimeDirectoryPreserve", {"Service", "RuntimeDirectoryPreserve"}},
        {"Restart", {"Service", "Restart"}},
        {"TimeoutStopUSec", {"Service", "TimeoutStopSec"}},
        {"TimeoutStartUSec", {"Service", "TimeoutStartSec"}},
        {"TimersMonotonic", {"Timer", ""}},
        {"RandomizedDelayUSec", {"Timer", "RandomizedDelaySec"}},
        {"AccuracyUSec", {"Timer", "AccuracySec"}},
        {"ProtectSystem", {"Service", "ProtectSystem"}},
        {"ProtectHome", {"Service", "ProtectHome"}},
        {"ProtectProc", {"Service", "ProtectProc"}},
        {"ReadWritePaths", {"Service", "ReadWritePaths"}},
        {"PrivateTmp", {"Service", "PrivateTmp"}},
        {"PrivateDevices", {"Service", "PrivateDevices"}},
        {"NoNewPrivileges", {"Service", "NoNewPrivileges"}},
        {"ProtectKernelTunables", {"Service", "ProtectKernelTunables"}},
        {"ProtectKernelModules", {"Service", "ProtectKernelModules"}},
        {"ProtectKernelLogs", {"Service", "ProtectKernelLogs"}},
        {"ProtectControlGroups", {"Service", "ProtectControlGroups"}},
        {"ProtectClock", {"Service", "ProtectClock"}},
        {"ProtectHostname", {"Service", "ProtectHostname"}},
        {"RestrictRealtime", {"Service", "RestrictRealtime"}},
        {"RestrictSUIDSGID", {"Service", "RestrictSUIDSGID"}},
        {"LockPersonality", {"Service", "LockPersonality"}},
        {"RestrictNamespaces", {"Service", "RestrictNamespaces"}},
        {"RestrictAddressFamilies", {"Service", "RestrictAddressFamilies"}},
        {"SystemCallFilter", {"Service", "SystemCallFilter"}},
        {"SystemCallArchitectures", {"Service", "SystemCallArchitectures"}},
        {"CapabilityBoundingSet", {"Service", "CapabilityBoundingSet"}},
        {"MemoryMax", {"Service", "MemoryMax"}},
        {"StateDirectoryMode", {"Service", "StateDirectoryMode"}},
        {"RuntimeDirectoryMode", {"Service", "RuntimeDirectoryMode"}},
        {"TasksMax", {"Service", "TasksMax"}},
    };
    return m;
}

std::vector<std::string> lines_for(const Property& p, const FileKey& fk) {
    std::vector<std::string> out;
    std::string key = fk.key;
    std::visit(overloaded{
                   [&](const std::string& v) { out.push_back(key + "=" + esc_specifiers(v)); },
                   [&](bool v) { out.push_back(key + "=" + (v ? "yes" : "no")); },
                   [&](uint64_t v) {
                       if (p.name == "CapabilityBoundingSet")
                           out.push_back(key + "=" + capability_names(v));
                       else if (p.name == "StateDirectoryMode" || p.name == "RuntimeDirectoryMode")
                           out.push_back(key + "=" + fmt::format("{:04o}", v));
                       else if (p.name == "MemoryMax")
                           out.push_back(key + "=" + format_size(v));
                       else if (p.name == "TasksMax")
                           out.push_back(key + "=" + (v == kSizeInfinity ? std::string("infinity") : std::to_string(v)));
                       else if (p.name == "RestrictNamespaces")
                           out.push_back(key + "=" + (v == 0 ? "yes" : v == kCloneNewTime ? "time" : "no"));  // the namespaces allowed
                       else
                           out.push_back(key + "=" + format_timespan(v));
                   },
                   [&](const std::vector<std::string>& v) {
                       if (p.name == "Environment") {
                           for (const auto& e : v) out.push_back(key + "=" + quote_word(e));
                       } else {
                           std::string line;
                           for (const auto& e : v) line += (line.empty() ? "" : " ") + esc_specifiers(e);
                           out.push_back(key + "=" + line);
                       }
                   },
                   [&](const std::vector<ExecCommand>& v) {
                       for (const auto& c : v) {
                           // argv[0] differing from the path is written with '@'.
                           std::string prefix = c.ignore_failure ? "-" : "";
                           if (!c.argv.empty() && c.argv[0] != c.path) {
                               out.push_back(key + "=" + prefix + "@" + quote_exec_argv({c.path}) + " " + quote_exec_argv(c.argv));
                           } else {
                               out.push_back(key + "=" + prefix + quote_exec_argv(c.argv));
                           }
                       }
                   },
                   [&](const std::vector<std::pair<std::string, bool>>& v) {
                       for (const auto& [path, ignore] : v) out.push_back(key + "=" + (ignore ? "-" : "") + esc_specifiers(path));
                   },
                   [&](const std::vector<std::pair<std::string, uint64_t>>& v) {
                       for (const auto& [base, usec] : v) out.push_back(base + "=" + format_timespan(usec));  // bases are unit-file keys: OnActiveSec, ...
                   },
                   [&](const std::vector<Condition>& v) {
                       for (const auto& c : v)
                           out.push_back(c.type + "=" + (c.trigger ? "|" : "") + (c.negate ? "!" : "") + esc_specifiers(c.parameter));
                   },
                   [&](const NameList& l) {
                       std::string line = l.allow ? "" : "~";
                       for (size_t i = 0; i < l.names.size(); ++i) line += (i ? " " : "") + l.names[i];
                       out.push_back(key + "=" + line);
                   },
               },
               p.value);
    return out;
}

}  // namespace

std::string render_unit(const UnitPlan& u, const std::string& source_file) {
    static const char* const order[] = {"Unit", "Service", "Timer"};
    std::map<std::string, std::vector<std::string>> sections;
    for (const auto& p : u.properties) {
        auto it = file_keys().find(p.name);
        if (it == file_keys().end()) throw std::logic_error("no unit-file key for property " + p.name);
        for (auto& l : lines_for(p, it->second)) sections[it->second.section].push_back(std::move(l));
    }
    std::string out = fmt::format("# {} (transient, made by huddle-gen from {})\n", u.name, source_file);
    bool first = true;
    for (const char* sec : order) {
        auto it = sections.find(sec);
        if (it == sections.end()) continue;
        out += fmt::format("{}[{}]\n", first ? "" : "\n", sec);
        first = false;
        for (const auto& l : it->second) out += l + "\n";
    }
    return out;
}

std::string render_app(const AppPlan& p) {
    std::string out;
    for (const auto& u : p.units) {
        if (!out.empty()) out += "\n";
        out += render_unit(u, p.file);
    }
    return out;
}

nlohmann::json property_value_json(const PropertyValue& v) {
    using nlohmann::json;
    return std::visit(overloaded{
                          [](const std::string& s) { return json(s); },
                          [](bool b) { return json(b); },
                          [](uint64_t t) { return json(t); },
                          [](const std::vector<std::string>& a) { return json(a); },
                          [](const std::vector<ExecCommand>& a) {
                              json out = json::array();
                              for (const auto& c : a) out.push_back(json::array({c.path, c.argv, c.ignore_failure}));
                              return out;
                          },
                          [](const std::vector<std::pair<std::string, bool>>& a) {
                              json out = json::array();
                              for (const auto& [s, b] : a) out.push_back(json::array({s, b}));
                              return out;
                          },
                          [](const std::vector<std::pair<std::string, uint64_t>>& a) {
                              json out = json::array();
                              for (const auto& [s, t] : a) out.push_back(json::array({s, t}));
                              return out;
                          },
                          [](const std::vector<Condition>& a) {
                              json out = json::array();
                              for (const auto& c : a) out.push_back(json::array({c.type, c.trigger, c.negate, c.parameter}));
                              return out;
                          },
                          [](const NameList& l) { return json::array({l.allow, l.names}); },
                      },
                      v);
}

nlohmann::json plan_to_json(const AppPlan& p) {
    using nlohmann::json;
    json units = json::array();
    for (const auto& u : p.units) {
        json props = json::array();
        for (const auto& pr : u.properties)
            props.push_back({{"name", pr.name}, {"signature", pr.signature}, {"value", property_value_json(pr.value)}});
        units.push_back({{"name", u.name}, {"role", role_name(u.role)}, {"properties", props}, {"text", render_unit(u, p.file)}});
    }
    return {{"app", p.app}, {"file", p.file}, {"units", units}};
}

}  // namespace huddle
