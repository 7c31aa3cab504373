#include "core/url.hpp"

#include <algorithm>
#include <cctype>

namespace huddle {

std::optional<UrlParts> split_url(const std::string& url) {
    size_t sep = url.find("://");
    if (sep == std::string::npos || sep > url.find('/')) return std::nullopt;
    UrlParts p;
    p.scheme_length = sep;
    p.scheme = url.substr(0, sep);
    std::transform(p.scheme.begin(), p.scheme.end(), p.scheme.begin(), [](unsigned char ch) { return std::tolower(ch); });
    size_t begin = sep + 3;
    size_t path = url.find('/', begin);
    p.authority = url.substr(begin, path == std::string::npos ? std::string::npos : path - begin);
    if (path != std::string::npos) p.path = url.substr(path);
    // The last '@': a user name cannot hold one unencoded, and taking the
    // first would leave part of a secret in what is shown as the host.
    size_t at = p.authority.rfind('@');
    p.has_userinfo = at != std::string::npos;
    std::string hostport = p.has_userinfo ? p.authority.substr(at + 1) : p.authority;
    if (p.has_userinfo) p.userinfo = p.authority.substr(0, at);
    // [v6:addr]:port keeps its colons inside the brackets.
    size_t colon = hostport.rfind(':');
    size_t bracket = hostport.rfind(']');
    if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
        p.host = hostport.substr(0, colon);
        p.port = hostport.substr(colon + 1);
    } else {
        p.host = hostport;
    }
    return p;
}

}  // namespace huddle
