// A git remote URL of the form SCHEME://[USERINFO@]HOST[:PORT][/PATH], cut
// into its parts once, for validation, the ssh port, redaction and the
// TLS setup. The scp form (user@host:path) and local paths are not URLs
// here: split_url returns nothing for them.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace huddle {

struct UrlParts {
    std::string scheme;       // in lower case, as libgit2 matches it
    size_t scheme_length = 0;  // as written, without "://"
    std::string authority;    // between "://" (at scheme_length) and the first '/' after it
    bool has_userinfo = false;
    std::string userinfo;     // before the authority's last '@'
    std::string host;         // after it, without the port
    std::string port;         // "" when none is written
    std::string path;         // from the '/' after the authority; "" when none
};

// Only when "://" comes before the first '/'.
std::optional<UrlParts> split_url(const std::string& url);

}  // namespace huddle
