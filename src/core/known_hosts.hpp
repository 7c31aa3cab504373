#pragma once
// Matching a server's SSH host key against an OpenSSH known_hosts file:
// plain and hashed (|1|salt|hash) host fields, patterns with * and ?,
// negated patterns, [host]:port, @revoked and @cert-authority markers.
#include <string>
#include <string_view>

namespace huddle {

enum class HostKeyVerdict {
    match,       // a line lists this host with exactly this key
    mismatch,    // the host is listed, but with other keys only
    revoked,     // the key is marked @revoked
    not_listed,  // no line names this host
};

// host: the name as ssh writes it: "example.com", or "[example.com]:2222"
// for a port other than 22. key: the raw key blob the server sent.
HostKeyVerdict check_host_key(std::string_view known_hosts, const std::string& host, std::string_view key);

std::string base64_decode(std::string_view in);

}  // namespace huddle
