#include "config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <set>

#include "cmdline.hpp"
#include "keys.hpp"
#include "unitname.hpp"

namespace huddle {
namespace {

struct SectionSpec {
    const char* name;
    std::vector<std::string> keys;
};

const std::vector<SectionSpec>& schema() {
    static const std::vector<SectionSpec> s = {
        {"repository", {"remote path", "branch", "tag", "commit", "local path", "remote", "executable", "type", "credential", "known hosts", "submodules"}},
        {"timing", {"minimum", "maximum"}},
        {"application", {"start", "executable", "user", "group", "environment", "environment file", "type", "restart", "stop timeout", "working directory"}},
        {"deploy", {"build", "verify", "timeout", "settle", "health command", "health timeout", "keep"}},
        {"scripts", {"pre-pull", "post-pull"}},
        {"test", {}},  // Huddle's reserved section: any key, see check_test()
        {"watchdog", {"period", "host", "port", "request", "response"}},
    };
    return s;
}

// Top-level directories a release symlink must never replace.
const char* const kSystemPaths[] = {"/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/opt", "/proc", "/root", "/run",
                                    "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/var/lib", "/var/lib/huddle", "/usr/local", "/usr/bin",
                                    "/usr/lib", "/var/log", "/var/tmp", "/etc/huddle"};

// Directories whose contents are not an app's to replace: huddle's configs
// and credentials, and the kernel's file systems.
const char* const kForeignTrees[] = {"/etc/huddle/", "/run/huddle/", "/usr/lib/huddle/", "/proc/", "/sys/", "/dev/"};

// The kernel's limit for one argument or environment string
// (MAX_ARG_STRLEN): no command, script or variable can be longer.
constexpr size_t kMaxValueBytes = 128 * 1024;
// Longer than any key or section name, by far.
constexpr size_t kMaxKeyBytes = 100;

// At most 40 bytes of S (not cutting a UTF-8 sequence), for a message.
std::string shorten(const std::string& s) {
    if (s.size() <= 40) return s;
    size_t n = 40;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80) --n;
    return s.substr(0, n) + "...";
}

bool has_dot_dot(const std::string& path) {
    for (size_t pos = 0; pos <= path.size();) {
        size_t next = path.find('/', pos);
        if (next == std::string::npos) next = path.size();
        if (path.compare(pos, next - pos, "..") == 0) return true;
        pos = next + 1;
    }
    return false;
}

const char kBackslashEnd[] = "must not end with a backslash: in a unit file it would continue the value on the next line";

struct Found {
    const RawSection* section;
    const RawEntry* entry;
    std::string label;  // "[section] key" as written, for messages
};

// Columns from the opening quote of a JSON string literal to the character
// at decoded byte offset `off`, stepping over escapes.
int literal_columns(const std::string& lit, size_t off) {
    size_t decoded = 0;
    int cols = 1;  // the opening quote
    for (size_t i = 1; i + 1 < lit.size() && decoded < off;) {
        if (lit[i] == '\\' && i + 1 < lit.size()) {
            if (lit[i + 1] == 'u' && i + 5 < lit.size()) {
                unsigned cp = static_cast<unsigned>(std::stoul(lit.substr(i + 2, 4), nullptr, 16));
                decoded += cp < 0x80 ? 1 : cp < 0x800 ? 2 : (cp >= 0xd800 && cp < 0xdc00) ? 4 : (cp >= 0xdc00 && cp < 0xe000) ? 0 : 3;
                i += 6;
                cols += 6;
            } else {
                decoded += 1;
                i += 2;
                cols += 2;
            }
        } else {
            ++cols;
            unsigned char c = static_cast<unsigned char>(lit[i]);
            size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : 4;
            decoded += n;
            i += n;
        }
    }
    return cols;
}

class Interpreter {
public:
    Interpreter(const std::string& name, const std::string& file, Format format, Diagnostics& d)
        : name_(name), file_(file), format_(format), diags_(d) {}

    std::optional<AppConfig> run(const RawDoc& doc);

private:
    void index(const RawDoc& doc);
    const Found* get(const char* section, const char* key) const {
        auto it = found_.find(std::string(section) + "/" + normalize_key(key));
        return it == found_.end() ? nullptr : &it->second;
    }
    bool has_section(const char* s) const { return sections_.count(s) > 0; }
    Loc section_loc(const char* s) const {
        auto it = sections_.find(s);
        return it == sections_.end() ? Loc{file_, 1, 0} : it->second->loc;
    }

    void error(const Found& f, const std::string& msg) { diags_.error(f.entry->value.loc, f.label, msg); }
    void error_at(const Loc& loc, const std::string& label, const std::string& msg) { diags_.error(loc, label, msg); }

    std::optional<std::string> str(const char* section, const char* key);
    std::optional<bool> boolean(const char* section, const char* key);
    std::optional<usec_t> duration(const char* section, const char* key);
    std::optional<int64_t> integer(const char* section, const char* key, int64_t lo, int64_t hi);
    std::optional<std::vector<std::string>> list(const char* section, const char* key, bool comma_splits);
    std::optional<std::string> abs_path(const char* section, const char* key);
    std::optional<std::vector<std::string>> command(const char* section, const char* key);
    std::optional<std::string> one_of(const char* section, const char* key, std::initializer_list<const char*> allowed);
    std::optional<std::string> scalar_text(const Found& f);

    void repository(AppConfig& c);
    void timing(AppConfig& c);
    void application(AppConfig& c);
    void deploy(AppConfig& c);
    void watchdog(AppConfig& c);
    void check_test();
    void environment(ApplicationConfig& a);
    bool env_ok(const Loc& loc, const std::string& label, const std::string& k, const std::string& v);

    std::string name_, file_;
    Format format_;
    Diagnostics& diags_;
    std::map<std::string, Found> found_;
    std::map<std::string, const RawSection*> sections_;
    // What a required key's absence may already be explained by: an unknown
    // section (it may hold the key), or an unknown key with a "did you mean".
    bool unknown_section_ = false;
    std::set<std::string> hinted_;
    bool explained(const char* section, const char* key) const {
        return hinted_.count(std::string(section) + "/" + normalize_key(key)) > 0;
    }
};

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
                         "unknown section" + (hint.empty() ? "; sections are [repository], [timing], [application], [deploy], [scripts], [watchdog]"
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

std::optional<std::string> Interpreter::scalar_text(const Found& f) {
    const RawValue& v = f.entry->value;
    switch (v.kind) {
    case RawValue::Kind::string:
        if (v.str.size() > kMaxValueBytes) {
            error(f, fmt::format("is {} bytes long; a value may be at most {} bytes", v.str.size(), kMaxValueBytes));
            return std::nullopt;
        }
        return v.str;
    case RawValue::Kind::integer: return std::to_string(v.integer);
    case RawValue::Kind::floating: return fmt::format("{}", v.floating);
    case RawValue::Kind::boolean: error(f, "expects text, got a boolean"); return std::nullopt;
    case RawValue::Kind::list:
        if (v.untyped) {
            error(f, "expects one value, got several lines; put it on one line");
            return std::nullopt;
        }
        error(f, "expects one value, got a list");
        return std::nullopt;
    case RawValue::Kind::table: error(f, "expects one value, got a table"); return std::nullopt;
    }
    return std::nullopt;
}

std::optional<std::string> Interpreter::str(const char* section, const char* key) {
    const Found* f = get(section, key);
    if (!f) return std::nullopt;
    auto s = scalar_text(*f);
    if (!s) return std::nullopt;
    if (s->find('\0') != std::string::npos || s->find('\n') != std::string::npos || s->find('\r') != std::string::npos) {
        error(*f, "must not contain line breaks or NUL bytes");
        return std::nullopt;
    }
    return s;
}

std::optional<bool> Interpreter::boolean(const char* section, const char* key) {
    const Found* f = get(section, key);
    if (!f) return std::nullopt;
    const RawValue& v = f->entry->value;
    if (v.kind == RawValue::Kind::boolean) return v.boolean;
    if (v.kind == RawValue::Kind::string) {
        std::string s = normalize_key(v.str);
        if (s == "true" || s == "yes" || s == "on" || s == "1") return true;
        if (s == "false" || s == "no" || s == "off" || s == "0") return false;
    }
    if (v.kind == RawValue::Kind::integer && (v.integer == 0 || v.integer == 1)) return v.integer == 1;
    error(*f, "expects true or false (also yes/no, on/off, 1/0)");
    return std::nullopt;
}

std::optional<usec_t> Interpreter::duration(const char* section, const char* key) {
    const Found* f = get(section, key);
    if (!f) return std::nullopt;
    const RawValue& v = f->entry->value;
    TimespanResult r;
    if (v.kind == RawValue::Kind::integer)
        r = timespan_from_seconds(static_cast<double>(v.integer));
    else if (v.kind == RawValue::Kind::floating)
        r = timespan_from_seconds(v.floating);
    else if (v.kind == RawValue::Kind::string)
        r = parse_timespan(v.str);
    else if (v.kind == RawValue::Kind::list && v.untyped) {
        error(*f, "expects one value, got several lines (an indented line continues the value above it; remove the indentation)");
        return std::nullopt;
    } else {
        error(*f, "expects a duration: a number of seconds or a span such as \"90s\" or \"5min\"");
        return std::nullopt;
    }
    if (!r.usec) error(*f, "duration " + r.error);
    return r.usec;
}

std::optional<int64_t> Interpreter::integer(const char* section, const char* key, int64_t lo, int64_t hi) {
    const Found* f = get(section, key);
    if (!f) return std::nullopt;
    const RawValue& v = f->entry->value;
    std::optional<int64_t> n;
    if (v.kind == RawValue::Kind::integer) n = v.integer;
    if (v.kind == RawValue::Kind::string && !v.str.empty() && v.str.size() < 18 &&
        std::all_of(v.str.begin(), v.str.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
        n = std::stoll(v.str);
    if (!n || *n < lo || *n > hi) {
        error(*f, fmt::format("expects a whole number from {} to {}", lo, hi));
        return std::nullopt;
    }
    return n;
}

std::optional<std::vector<std::string>> Interpreter::list(const char* section, const char* key, bool comma_splits) {
    const Found* f = get(section, key);
    if (!f) return std::nullopt;
    const RawValue& v = f->entry->value;
    std::vector<std::string> out;
    auto add = [&](const std::string& s, bool untyped) {
        if (s.find('\0') != std::string::npos) {
            error(*f, "must not contain NUL bytes");
            return;
        }
        if (s.size() > kMaxValueBytes) {
            error(*f, fmt::format("has an item {} bytes long; a command may be at most {} bytes", s.size(), kMaxValueBytes));
            return;
        }
        // Huddle split INI script lists on commas; a JSON/TOML list is explicit.
        if (comma_splits && untyped) {
            size_t pos = 0;
            while (pos <= s.size()) {
                size_t c = s.find(',', pos);
                std::string item = s.substr(pos, c == std::string::npos ? std::string::npos : c - pos);
                item.erase(0, item.find_first_not_of(" \t"));
                item.erase(item.find_last_not_of(" \t") + 1);
                if (!item.empty()) out.push_back(item);
                if (c == std::string::npos) break;
                pos = c + 1;
            }
        } else if (!s.empty()) {
            out.push_back(s);
        }
    };
    if (v.kind == RawValue::Kind::string) {
        add(v.str, v.untyped);
    } else if (v.kind == RawValue::Kind::list) {
        for (const auto& item : v.list) {
            if (item.kind != RawValue::Kind::string) {
                diags_.error(item.loc, f->label, "list items must be text (command lines)");
                return std::nullopt;
            }
            add(item.str, item.untyped);
        }
    } else {
        error(*f, "expects a command line or a list of them");
        return std::nullopt;
    }
    return out;
}

std::optional<std::string> Interpreter::abs_path(const char* section, const char* key) {
    auto s = str(section, key);
    const Found* f = get(section, key);
    if (!s || !f) return std::nullopt;
    std::string p = *s;
    if (p.empty()) return std::nullopt;
    if (p[0] != '/') {
        std::string hint = (p.size() > 2 && p[1] == ':') ? " ('" + p + "' looks like a Windows path)" : "";
        error(*f, "must be an absolute path, starting with '/'" + hint);
        return std::nullopt;
    }
    for (size_t pos = 0; pos < p.size();) {
        size_t next = p.find('/', pos + 1);
        std::string comp = p.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
        if (comp == ".." || comp == ".") {
            error(*f, "must not contain '.' or '..' components; write the path it means");
            return std::nullopt;
        }
        if (next == std::string::npos) break;
        pos = next;
    }
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    // "//" collapses, as the kernel reads it.
    std::string clean;
    for (char c : p)
        if (!(c == '/' && !clean.empty() && clean.back() == '/')) clean += c;
    if (clean.back() == '\\') {
        error(*f, kBackslashEnd);
        return std::nullopt;
    }
    return clean;
}

std::optional<std::vector<std::string>> Interpreter::command(const char* section, const char* key) {
    const Found* f = get(section, key);
    if (!f) return std::nullopt;
    auto s = str(section, key);
    if (!s) return std::nullopt;
    SplitResult r = split_command(*s);
    if (!r.error.empty()) {
        Loc loc = f->entry->value.loc;
        // Point at the offending character: the value starts after its quote
        // in JSON and TOML.
        if (loc.col > 0 && r.error.rfind("is empty", 0) != 0) {
            const RawValue& v = f->entry->value;
            loc.col += !v.source.empty() ? literal_columns(v.source, r.error_offset) : static_cast<int>(r.error_offset) + (v.untyped ? 0 : 1);
        }
        std::string msg = r.argv.empty() && r.error.rfind("is empty", 0) == 0 ? "command " + r.error : r.error + " in the command line";
        if (r.error.find("quote") != std::string::npos) msg += "; close the quote, or escape it with a backslash";
        diags_.error(loc, f->label, msg);
        return std::nullopt;
    }
    if (r.argv[0].empty()) {
        error(*f, "the program name is empty ('' or \"\" comes first); write the program to run first");
        return std::nullopt;
    }
    return r.argv;
}

std::optional<std::string> Interpreter::one_of(const char* section, const char* key, std::initializer_list<const char*> allowed) {
    auto s = str(section, key);
    if (!s) return std::nullopt;
    std::string v = normalize_key(*s);
    std::replace(v.begin(), v.end(), ' ', '-');
    for (const char* a : allowed)
        if (v == a) return v;
    std::vector<std::string> opts(allowed.begin(), allowed.end());
    error(*get(section, key), fmt::format("'{}' is not one of: {}", *s, fmt::join(opts, ", ")));
    return std::nullopt;
}

bool valid_user_name(const std::string& u) {
    if (u.empty() || u.size() > 32) return false;
    if (std::all_of(u.begin(), u.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) return true;
    if (!(std::islower(static_cast<unsigned char>(u[0])) || u[0] == '_')) return false;
    return std::all_of(u.begin(), u.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
}

bool valid_ref_text(const std::string& s) {
    if (s.empty() || s[0] == '-' || s.find("..") != std::string::npos || s.back() == '/' || s.back() == '.') return false;
    return std::none_of(s.begin(), s.end(), [](char c) {
        unsigned char u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f || c == ' ' || c == '~' || c == '^' || c == ':' || c == '\\';
    });
}

// What is wrong with a remote path, or "". Secrets never go in it (it is
// logged and shown in unit properties), and only the transports libgit2
// speaks are accepted: no "transport::address" remote helpers such as ext::.
std::string remote_path_problem(const std::string& u) {
    static const char* const schemes[] = {"https", "http", "ssh", "git", "file", "git+ssh", "ssh+git"};
    if (u.empty()) return "must not be empty; write the git URL";
    if (u.find_first_of(" \t") != std::string::npos) return "must not contain spaces; percent-encode them as %20";
    size_t sep = u.find("://");
    size_t slash = u.find('/');
    if (sep != std::string::npos && sep < slash) {
        std::string scheme = u.substr(0, sep);
        std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char ch) { return std::tolower(ch); });
        if (std::find(std::begin(schemes), std::end(schemes), scheme) == std::end(schemes))
            return "'" + u.substr(0, sep) + "://' is not a transport huddle speaks; use https://, http://, ssh://, git:// or file://";
        size_t host = sep + 3, path = u.find('/', host);
        std::string authority = u.substr(host, path == std::string::npos ? std::string::npos : path - host);
        size_t at = authority.rfind('@');
        std::string userinfo = at == std::string::npos ? "" : authority.substr(0, at);
        std::string hostname = at == std::string::npos ? authority : authority.substr(at + 1);
        // A user, password or token would end up in unit properties and logs.
        if ((scheme == "https" || scheme == "http") && at != std::string::npos)
            return "must not hold a user name, password or token; put the secret in /etc/huddle/credentials/NAME and set credential = NAME";
        if (userinfo.find(':') != std::string::npos)
            return "must not hold a password; put the key in /etc/huddle/credentials/NAME and set credential = NAME";
        if ((scheme == "https" || scheme == "http") && u.find('?') != std::string::npos)
            return "must not hold a query string (a token in it would be logged); put the secret in /etc/huddle/credentials/NAME and set credential = NAME";
        if (scheme == "file") {
            if (!authority.empty() && authority != "localhost") return "a file:// URL names a local path, three slashes in all: file:///srv/git/app.git";
            if (path != std::string::npos && has_dot_dot(u.substr(path))) return "must not contain '..' components; write the path it means";
        } else if (hostname.empty() || hostname[0] == '-') {
            return "'" + hostname + "' is not a host name";
        }
        return "";
    }
    if (u[0] == '/') return has_dot_dot(u) ? "must not contain '..' components; write the path it means" : "";
    // user@host:path, as scp writes it.
    size_t colon = u.find(':');
    if (colon == std::string::npos || colon == 0 || slash < colon)
        return "must be a URL (https://, ssh://, git://, file://), user@host:path, or an absolute path";
    if (u.compare(colon, 2, "::") == 0) return "'" + u.substr(0, colon) + "::' names a git remote helper, which huddle does not run; use https://, ssh://, git:// or file://";
    if (colon == 1 && std::isalpha(static_cast<unsigned char>(u[0])) && u.size() > 2 && (u[2] == '\\' || u[2] == '/'))
        return "must be a URL or an absolute path ('" + u + "' looks like a Windows path)";
    std::string authority = u.substr(0, colon);
    size_t at = authority.rfind('@');
    std::string hostname = at == std::string::npos ? authority : authority.substr(at + 1), lower = hostname;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (std::find(std::begin(schemes), std::end(schemes), lower) != std::end(schemes))
        return "'" + u + "' is not a URL: write " + lower + "://HOST/PATH";
    if (hostname.empty() || hostname[0] == '-') return "'" + hostname + "' is not a host name";
    // user:password@host:path reads as host "user"; a password all the same.
    if (size_t at2 = u.find('@', colon); at2 != std::string::npos && u.find('/', colon) > at2)
        return "must not hold a password; put the key in /etc/huddle/credentials/NAME and set credential = NAME";
    return "";
}

// The scheme in lower case, as libgit2 matches it.
std::string normalize_remote_path(std::string u) {
    size_t sep = u.find("://");
    if (sep != std::string::npos && sep < u.find('/'))
        std::transform(u.begin(), u.begin() + static_cast<std::ptrdiff_t>(sep), u.begin(), [](unsigned char ch) { return std::tolower(ch); });
    return u;
}

void Interpreter::repository(AppConfig& c) {
    RepositoryConfig& r = c.repo;
    const Found* rp = get("repository", "remote path");
    if (!rp) {
        Loc loc = section_loc("repository");
        // A misspelt [repository] or remote path is reported as such.
        if (!(has_section("repository") ? explained("repository", "remote path") : unknown_section_))
            diags_.error(loc, "[repository] remote path",
                         has_section("repository") ? "required key is missing; add the git URL, e.g. remote path = https://example.com/app.git"
                                                   : "required key is missing (no [repository] section); add [repository] with remote path = GIT-URL");
    } else if (auto s = str("repository", "remote path")) {
        std::string why = remote_path_problem(*s);
        if (!why.empty()) error(*rp, why);
        else r.remote_path = normalize_remote_path(*s);
    }
    if (auto b = str("repository", "branch"); b && !b->empty()) {
        if (!valid_ref_text(*b)) error(*get("repository", "branch"), "'" + *b + "' is not a valid git branch name");
        else r.branch = *b;
    }
    if (auto t = str("repository", "tag"); t && !t->empty()) {
        if (t->find_first_of(" \t") != std::string::npos || (*t)[0] == '-') error(*get("repository", "tag"), "'" + *t + "' is not a valid tag pattern");
        else r.tag = *t;
    }
    if (!r.branch.empty() && !r.tag.empty())
        error(*get("repository", "tag"), "branch and tag are set together; keep branch to follow a branch, or tag to deploy the highest matching tag");
    if (auto cm = str("repository", "commit"); cm && !cm->empty()) {
        bool hex = std::all_of(cm->begin(), cm->end(), [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)); });
        if (!hex || cm->size() < 7 || cm->size() > 64)
            error(*get("repository", "commit"), "expects a commit id: 7 to 64 hexadecimal digits");
        else {
            r.commit = *cm;
            std::transform(r.commit.begin(), r.commit.end(), r.commit.begin(), [](unsigned char ch) { return std::tolower(ch); });
        }
    }
    r.local_path = default_local_path(name_);
    if (auto lp = abs_path("repository", "local path")) {
        const char* const* tree = std::find_if(std::begin(kForeignTrees), std::end(kForeignTrees), [&](const char* t) { return lp->rfind(t, 0) == 0; });
        if (std::find(std::begin(kSystemPaths), std::end(kSystemPaths), *lp) != std::end(kSystemPaths))
            error(*get("repository", "local path"), "'" + *lp + "' is a system directory; huddle replaces local path with a symlink, so choose a path of its own such as /srv/" + name_);
        else if (tree != std::end(kForeignTrees))
            error(*get("repository", "local path"), "'" + *lp + "' is inside " + std::string(*tree, std::strlen(*tree) - 1) + ", which is not an app's to replace; choose a path of its own such as /srv/" + name_);
        else if (lp->rfind("/var/lib/huddle/", 0) == 0 && *lp != default_local_path(name_))
            error(*get("repository", "local path"), "paths under /var/lib/huddle/ belong to huddle's state; leave local path unset to use " + default_local_path(name_));
        else {
            r.local_path = *lp;
            r.local_path_loc = get("repository", "local path")->entry->value.loc;
        }
    }
    if (auto rm = str("repository", "remote"); rm && !rm->empty()) r.remote_name = *rm;
    if (const Found* ex = get("repository", "executable"))
        diags_.notice(ex->entry->loc, ex->label, "ignored: huddle does its git work with libgit2, not a git executable");
    if (auto ty = str("repository", "type"); ty && normalize_key(*ty) != "git" && !ty->empty())
        error(*get("repository", "type"), "only type = git is supported");
    if (auto cr = str("repository", "credential"); cr && !cr->empty()) {
        bool ok = (*cr)[0] != '.' && std::all_of(cr->begin(), cr->end(), [](char ch) {
            return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-';
        });
        if (!ok) error(*get("repository", "credential"), "expects the name of a file in /etc/huddle/credentials/ (letters, digits, '.', '_', '-')");
        else r.credential = *cr;
    }
    if (auto kh = abs_path("repository", "known hosts")) r.known_hosts = *kh;
    // Not silently ignored: a release without its submodules is broken.
    if (auto sm = boolean("repository", "submodules"); sm && *sm)
        error(*get("repository", "submodules"), "submodules are not supported yet (releases are checked out without them); remove the key or set it to false");
}

void Interpreter::timing(AppConfig& c) {
    if (auto mn = duration("timing", "minimum")) {
        if (*mn < kUsecPerSec) error(*get("timing", "minimum"), "must be at least 1s; polling more often than that only loads the git server");
        else c.timing.minimum = *mn;
    }
    if (auto mx = duration("timing", "maximum")) {
        if (*mx < c.timing.minimum)
            error(*get("timing", "maximum"),
                  get("timing", "minimum")
                      ? fmt::format("maximum ({}) is less than minimum ({}); swap them or raise maximum", format_timespan(*mx), format_timespan(c.timing.minimum))
                      : fmt::format("maximum ({}) is less than the default minimum ({}); set minimum too", format_timespan(*mx), format_timespan(c.timing.minimum)));
        else
            c.timing.maximum = *mx;
    }
}

bool Interpreter::env_ok(const Loc& loc, const std::string& label, const std::string& k, const std::string& v) {
    bool name_ok = !k.empty() && !std::isdigit(static_cast<unsigned char>(k[0])) &&
                   std::all_of(k.begin(), k.end(), [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'; });
    if (!name_ok) {
        error_at(loc, label, "'" + shorten(k) + "' is not a valid environment variable name (letters, digits, '_', not starting with a digit)");
        return false;
    }
    if (k.rfind("HUDDLE_", 0) == 0) {
        error_at(loc, label, k + " is set by huddle itself and cannot be overridden");
        return false;
    }
    if (v.find_first_of(std::string("\n\r\0", 3)) != std::string::npos) {
        error_at(loc, label, "the value of " + k + " must not contain line breaks or NUL bytes");
        return false;
    }
    if (k.size() + 1 + v.size() > kMaxValueBytes) {
        error_at(loc, label, fmt::format("{}=... is {} bytes long; a variable may be at most {} bytes", shorten(k), k.size() + 1 + v.size(), kMaxValueBytes));
        return false;
    }
    return true;
}

void Interpreter::environment(ApplicationConfig& a) {
    const Found* f = get("application", "environment");
    if (!f) return;
    const RawValue& v = f->entry->value;
    auto add_assignment = [&](const std::string& s, const Loc& loc) {
        size_t eq = s.find('=');
        if (eq == std::string::npos) {
            error_at(loc, f->label, "'" + s + "' is not NAME=VALUE");
            return;
        }
        std::string k = s.substr(0, eq), val = s.substr(eq + 1);
        if (env_ok(loc, f->label, k, val)) a.environment.emplace_back(k, val);
    };
    if (v.kind == RawValue::Kind::table) {
        for (const auto& [k, item] : v.table) {
            if (item.kind == RawValue::Kind::list || item.kind == RawValue::Kind::table) {
                error_at(item.loc, f->label, "the value of " + k + " must be text, a number or a boolean");
                continue;
            }
            std::string val = item.kind == RawValue::Kind::string ? item.str
                              : item.kind == RawValue::Kind::integer ? std::to_string(item.integer)
                              : item.kind == RawValue::Kind::boolean ? (item.boolean ? "true" : "false")
                                                                      : fmt::format("{}", item.floating);
            if (env_ok(item.loc, f->label, k, val)) a.environment.emplace_back(k, val);
        }
    } else if (v.kind == RawValue::Kind::list) {
        for (const auto& item : v.list) {
            if (item.kind != RawValue::Kind::string) {
                error_at(item.loc, f->label, "list items must be NAME=VALUE text");
                return;
            }
            // INI's "environment =" with the assignments on the lines below.
            if (item.untyped && item.str.empty()) continue;
            add_assignment(item.str, item.loc);
        }
    } else if (v.kind == RawValue::Kind::string) {
        // One line of NAME=VALUE words, quoted as in systemd's Environment=.
        SplitResult r = split_command(v.str);
        if (!r.error.empty() && r.error.rfind("is empty", 0) != 0) {
            error(*f, r.error + "; close the quote, or escape it with a backslash");
            return;
        }
        for (const auto& w : r.argv) add_assignment(w, v.loc);
    } else {
        error(*f, "expects a table of NAME = VALUE, or a list of NAME=VALUE");
    }
    std::map<std::string, int> seen;
    for (const auto& [k, val] : a.environment)
        if (++seen[k] == 2) error(*f, k + " is set twice");
}

void Interpreter::application(AppConfig& c) {
    if (!has_section("application")) return;
    ApplicationConfig a;
    const Found* start = get("application", "start");
    const Found* exe = get("application", "executable");
    if (start && exe) error(*exe, "Huddle's 'executable' and 'start' mean the same here; keep only start");
    if (!start && exe) {
        diags_.notice(exe->entry->loc, exe->label, "read as start = ... (Huddle's older spelling)");
        start = exe;
    }
    if (!start) {
        if (!explained("application", "start") && !explained("application", "executable"))
            diags_.error(section_loc("application"), "[application] start",
                         "required key is missing; add the command that runs the app, e.g. start = python3 -m app, or remove [application] for a files-only sync");
    } else if (auto argv = command("application", start == exe ? "executable" : "start")) {
        a.start = *argv;
        if (std::string("-+!@:").find(a.start[0][0]) != std::string::npos && !a.start[0].empty())
            error(*start, "the program name must not start with '" + a.start[0].substr(0, 1) +
                              "': systemd reads it as an ExecStart prefix; use the program's path, or sh -c");
        else if (a.start[0].find('/') != std::string::npos && a.start[0][0] != '/') {
            // "./server": relative to the release, where the app runs.
            std::string p = a.start[0];
            if (p.rfind("./", 0) == 0) p = p.substr(2);
            if (has_dot_dot(p)) error(*start, "a relative program is inside the release and must not contain '..'; give an absolute path for one outside it");
            else a.start[0] = c.repo.local_path + "/" + p;
        }
    }
    if (auto u = str("application", "user"); u && !u->empty()) {
        if (!valid_user_name(*u)) error(*get("application", "user"), "'" + *u + "' is not a valid user name");
        else a.user = *u;
    }
    if (auto g = str("application", "group"); g && !g->empty()) {
        if (!valid_user_name(*g)) error(*get("application", "group"), "'" + *g + "' is not a valid group name");
        else a.group = *g;
    }
    environment(a);
    if (auto ef = abs_path("application", "environment file")) a.environment_file = *ef;
    if (auto t = one_of("application", "type", {"simple", "exec", "notify"})) a.type = *t;
    if (auto r = one_of("application", "restart", {"no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always"})) a.restart = *r;
    a.stop_timeout = duration("application", "stop timeout");
    if (const Found* wd = get("application", "working directory")) {
        auto s = str("application", "working directory");
        if (s && !s->empty()) {
            if ((*s)[0] == '/')
                a.working_directory = abs_path("application", "working directory").value_or("");
            else if (s->find("..") != std::string::npos)
                error(*wd, "a relative working directory is inside the release and must not contain '..'");
            else if (s->back() == '\\')
                error(*wd, kBackslashEnd);
            else
                a.working_directory = c.repo.local_path + "/" + *s;
        }
    }
    if (a.working_directory.empty()) a.working_directory = c.repo.local_path;
    c.app = std::move(a);
}

void Interpreter::deploy(AppConfig& c) {
    DeployConfig& d = c.deploy;
    if (auto b = list("deploy", "build", false)) d.build = *b;
    if (auto p = list("scripts", "post-pull", true)) d.build.insert(d.build.end(), p->begin(), p->end());
    if (auto p = list("scripts", "pre-pull", true)) d.pre_pull = *p;
    if (auto v = list("deploy", "verify", false)) d.verify = *v;
    if (auto t = duration("deploy", "timeout")) {
        if (*t < kUsecPerSec) error(*get("deploy", "timeout"), "must be at least 1s");
        else d.timeout = *t;
    }
    if (auto s = duration("deploy", "settle")) d.settle = *s;
    if (get("deploy", "health command")) {
        auto s = str("deploy", "health command");
        if (s && !s->empty())
            if (auto argv = command("deploy", "health command")) d.health_command = *argv;
    }
    if (auto t = duration("deploy", "health timeout")) {
        if (*t < kUsecPerSec) error(*get("deploy", "health timeout"), "must be at least 1s");
        else d.health_timeout = *t;
    }
    if (auto k = integer("deploy", "keep", 1, 100)) d.keep = static_cast<unsigned>(*k);
    if (!c.app && (get("deploy", "health command") || get("deploy", "settle") || get("deploy", "health timeout"))) {
        const Found* f = get("deploy", "health command") ? get("deploy", "health command") : get("deploy", "settle") ? get("deploy", "settle") : get("deploy", "health timeout");
        diags_.warning(f->entry->loc, f->label, "has no effect without an [application] section (a files-only sync has no app to check)");
    }
}

void Interpreter::watchdog(AppConfig& c) {
    if (!has_section("watchdog")) return;
    WatchdogConfig w;
    if (auto p = duration("watchdog", "period")) {
        if (*p < kUsecPerSec) error(*get("watchdog", "period"), "must be at least 1s");
        else w.period = *p;
    }
    if (auto h = str("watchdog", "host"); h && !h->empty()) w.host = *h;
    if (!get("watchdog", "port")) {
        if (!explained("watchdog", "port"))
            diags_.error(section_loc("watchdog"), "[watchdog] port", "required key is missing; add the TCP port the app answers on");
    } else if (auto p = integer("watchdog", "port", 1, 65535))
        w.port = static_cast<uint16_t>(*p);
    if (auto r = str("watchdog", "request")) w.request = *r;
    if (auto r = str("watchdog", "response")) w.response = *r;
    if (!c.app) diags_.error(section_loc("watchdog"), "[watchdog]", "checks a running app, but there is no [application] section");
    c.watchdog = w;
}

void Interpreter::check_test() {
    if (!has_section("test")) return;
    const RawSection* sec = sections_.at("test");
    bool any_value = false;
    for (const auto& e : sec->entries) {
        const RawValue& v = e.value;
        bool empty = (v.kind == RawValue::Kind::string && v.str.empty()) || (v.kind == RawValue::Kind::list && v.list.empty()) ||
                     (v.kind == RawValue::Kind::table && v.table.empty());
        if (!empty) {
            any_value = true;
            diags_.error(e.loc, "[test] " + e.key,
                         "Huddle reserved [test] but never implemented it, so its meaning is unknown; move the check to [deploy] verify = COMMAND");
        }
    }
    if (!any_value)
        diags_.notice(sec->loc, "[test]", "ignored: Huddle's [test] section was never implemented; use [deploy] verify = COMMAND to check a release");
}

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
    check_test();
    if (diags_.has_errors()) return std::nullopt;
    return c;
}

}  // namespace

std::string default_local_path(const std::string& app_name) { return "/var/lib/huddle/" + app_name + "/current"; }

LoadResult interpret(const std::string& app_name, const std::string& file, Format format, const RawDoc& doc, Diagnostics diags) {
    LoadResult r;
    Interpreter in(app_name, file, format, diags);
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
        Loc loc{file, 1, 1};
        for (size_t i = 0; i < bad; ++i) {
            if (text[i] == '\n') {
                loc.line++;
                loc.col = 1;
            } else if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) {
                loc.col++;
            }
        }
        diags.error(loc, "", "the file is not valid UTF-8; save it as UTF-8");
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

std::vector<std::pair<std::string, std::vector<std::string>>> known_keys() {
    std::vector<std::pair<std::string, std::vector<std::string>>> out;
    for (const auto& s : schema()) out.emplace_back(s.name, s.keys);
    return out;
}

}  // namespace huddle
