// Which credential a remote may be sent, decided by the configured remote
// URL's scheme and the credential's kind, never by the authentication types
// the server says it accepts: an ssh key goes only to an ssh server, as a
// key; a token only over https; and both only to the configured host. Pure:
// git.cpp's credentials callback asks it.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace huddle {

// How a remote path talks to its server, for credentials: ssh (ssh://,
// git+ssh://, ssh+git://, user@host:path), https, http, or none (git://,
// file://, a local path: nothing to authenticate).
enum class CredTransport { none, ssh, https, http };
CredTransport credential_transport(const std::string& remote);

// Where a URL authenticates: its transport's scheme ("ssh" for every ssh
// spelling), the host in lower case, and the port (the scheme's default
// when none is written). nullopt when URL names no host.
struct Endpoint {
    std::string scheme, host, port;
    bool operator==(const Endpoint&) const = default;
};
std::optional<Endpoint> endpoint_of(const std::string& url);

// An ssh private key (PEM or OpenSSH format), which must never be sent as
// a password or token.
bool looks_like_private_key(std::string_view bytes);

enum class CredOffer { refuse, ssh_key, token };
struct CredChoice {
    CredOffer offer = CredOffer::refuse;
    std::string refusal;  // for refuse: why, and what to do
};

// REMOTE: the configured remote path; ASKED: the URL libgit2 is about to
// authenticate against; KEY_ALLOWED, PASSWORD_ALLOWED: what the server
// offers; CREDENTIAL: the credential file's path, for messages.
CredChoice choose_credential(const std::string& remote, const std::string& asked, bool key_allowed, bool password_allowed,
                             const std::string& credential);

}  // namespace huddle
