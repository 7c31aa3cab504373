#include "core/credpolicy.hpp"

#include <algorithm>
#include <cctype>

#include "core/escape.hpp"
#include "core/url.hpp"

namespace huddle {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::tolower(ch); });
    return s;
}

bool is_ssh_scheme(const std::string& scheme) { return scheme == "ssh" || scheme == "git+ssh" || scheme == "ssh+git"; }

// user@host:path or host:path, as scp writes it (and as git reads it: a
// ':' before any '/', and not a remote helper's "::").
std::optional<std::string> scp_host(const std::string& url) {
    size_t colon = url.find(':');
    if (colon == std::string::npos || colon == 0 || url.find('/') < colon || url.compare(colon, 2, "::") == 0) return std::nullopt;
    std::string authority = url.substr(0, colon);
    size_t at = authority.rfind('@');
    std::string host = at == std::string::npos ? authority : authority.substr(at + 1);
    if (host.empty()) return std::nullopt;
    return host;
}

std::string host_port(const Endpoint& e) { return e.host + ":" + e.port; }

}  // namespace

CredTransport credential_transport(const std::string& remote) {
    if (auto u = split_url(remote)) {
        if (is_ssh_scheme(u->scheme)) return CredTransport::ssh;
        if (u->scheme == "https") return CredTransport::https;
        if (u->scheme == "http") return CredTransport::http;
        return CredTransport::none;
    }
    return scp_host(remote) ? CredTransport::ssh : CredTransport::none;
}

std::optional<Endpoint> endpoint_of(const std::string& url) {
    if (auto u = split_url(url)) {
        if (u->host.empty()) return std::nullopt;
        std::string scheme = is_ssh_scheme(u->scheme) ? "ssh" : u->scheme;
        std::string port = u->port;
        if (port.empty()) port = scheme == "ssh" ? "22" : scheme == "https" ? "443" : scheme == "http" ? "80" : "";
        return Endpoint{scheme, lower(u->host), port};
    }
    if (auto host = scp_host(url)) return Endpoint{"ssh", lower(*host), "22"};
    return std::nullopt;
}

bool looks_like_private_key(std::string_view bytes) {
    size_t begin = bytes.find("-----BEGIN ");
    if (begin == std::string_view::npos) return false;
    size_t end = bytes.find("-----", begin + 11);
    return end != std::string_view::npos && bytes.substr(begin, end - begin).find("PRIVATE KEY") != std::string_view::npos;
}

CredChoice choose_credential(const std::string& remote, const std::string& asked, bool key_allowed, bool password_allowed,
                             const std::string& credential) {
    CredTransport t = credential_transport(remote);
    if (t == CredTransport::none)
        return {CredOffer::refuse, "the server asks for credentials, but the remote path is neither ssh nor https; huddle sends the credential in " +
                                       credential + " only to an ssh or https remote"};
    if (t == CredTransport::http)
        return {CredOffer::refuse, "the server asks for credentials over http://, which would send the credential in " + credential +
                                       " in cleartext; use an https:// remote path"};
    auto configured = endpoint_of(remote), now = endpoint_of(asked);
    if (!configured || !now || !(*configured == *now)) {
        std::string where = now ? now->scheme + "://" + host_port(*now) : "'" + asked + "'";
        return {CredOffer::refuse, "credentials were asked for " + escape_untrusted(where) + ", not the configured " + configured->scheme + "://" +
                                       host_port(*configured) + " (a redirect?); huddle sends the credential in " + credential +
                                       " only to the configured host; if the other one is to be trusted, set remote path to it"};
    }
    if (t == CredTransport::ssh) {
        if (key_allowed) return {CredOffer::ssh_key, ""};
        return {CredOffer::refuse, "the ssh server " + host_port(*configured) + " does not accept public key authentication; huddle offers the key in " +
                                       credential + " only as a key, never as a password"};
    }
    if (password_allowed) return {CredOffer::token, ""};
    return {CredOffer::refuse, "the https server " + host_port(*configured) + " asks for an authentication other than user and token (Basic); huddle sends the token in " +
                                   credential + " only that way"};
}

}  // namespace huddle
