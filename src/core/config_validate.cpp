// Validators of single values: names, git refs, remote paths, environment
// variables.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iterator>

#include "core/url.hpp"
#include "config_internal.hpp"

namespace huddle::config_detail {

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
    size_t slash = u.find('/');
    if (auto url = split_url(u)) {
        const std::string& scheme = url->scheme;
        if (std::find(std::begin(schemes), std::end(schemes), scheme) == std::end(schemes))
            return "'" + u.substr(0, url->scheme_length) + "://' is not a transport huddle speaks; use https://, http://, ssh://, git:// or file://";
        const std::string& authority = url->authority;
        const std::string& userinfo = url->userinfo;
        bool has_userinfo = url->has_userinfo;
        // The host as written, port included, as the message shows it.
        std::string hostname = has_userinfo ? authority.substr(userinfo.size() + 1) : authority;
        // A user, password or token would end up in unit properties and logs.
        if ((scheme == "https" || scheme == "http") && has_userinfo)
            return "must not hold a user name, password or token; put the secret in /etc/huddle/credentials/NAME and set credential = NAME";
        if (userinfo.find(':') != std::string::npos)
            return "must not hold a password; put the key in /etc/huddle/credentials/NAME and set credential = NAME";
        if ((scheme == "https" || scheme == "http") && u.find('?') != std::string::npos)
            return "must not hold a query string (a token in it would be logged); put the secret in /etc/huddle/credentials/NAME and set credential = NAME";
        if (scheme == "file") {
            if (!authority.empty() && authority != "localhost") return "a file:// URL names a local path, three slashes in all: file:///srv/git/app.git";
            if (!url->path.empty() && has_dot_dot(url->path)) return "must not contain '..' components; write the path it means";
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
    if (auto url = split_url(u)) u.replace(0, url->scheme_length, url->scheme);
    return u;
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

}  // namespace huddle::config_detail
