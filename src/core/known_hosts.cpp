#include "known_hosts.hpp"

#include <fnmatch.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <vector>

namespace huddle {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    size_t start = 0;
    while (true) {
        size_t end = s.find(sep, start);
        out.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) return out;
        start = end + 1;
    }
}

std::vector<std::string_view> fields(std::string_view line) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        size_t j = i;
        while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
        if (j > i) out.push_back(line.substr(i, j - i));
        i = j;
    }
    return out;
}

// ssh-keygen -H writes |1|base64(salt)|base64(HMAC-SHA1(salt, host)).
bool hashed_matches(std::string_view field, const std::string& host) {
    auto parts = split(field.substr(3), '|');
    if (parts.size() != 2) return false;
    std::string salt = base64_decode(parts[0]), want = base64_decode(parts[1]);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha1(), salt.data(), static_cast<int>(salt.size()), reinterpret_cast<const unsigned char*>(host.data()), host.size(), mac,
              &len))
        return false;
    return want == std::string(reinterpret_cast<char*>(mac), len);
}

// ssh's rule: a host matches if some pattern matches it and no negated
// pattern does.
bool hosts_match(std::string_view hosts, const std::string& host) {
    if (hosts.rfind("|1|", 0) == 0) return hashed_matches(hosts, host);
    bool matched = false;
    for (std::string_view p : split(hosts, ',')) {
        bool negated = !p.empty() && p[0] == '!';
        // ssh's patterns know only * and ?: "[host]:port" is literal.
        std::string pattern;
        for (char c : negated ? p.substr(1) : p) {
            if (c == '[' || c == ']' || c == '\\') pattern.push_back('\\');
            pattern.push_back(c);
        }
        if (fnmatch(pattern.c_str(), host.c_str(), FNM_CASEFOLD) != 0) continue;
        if (negated) return false;
        matched = true;
    }
    return matched;
}

}  // namespace

std::string base64_decode(std::string_view in) {
    static constexpr std::string_view chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned val = 0;
    int bits = -8;
    for (char c : in) {
        size_t p = chars.find(c);
        if (p == std::string_view::npos) break;
        val = (val << 6) | static_cast<unsigned>(p);
        bits += 6;
        if (bits >= 0) {
            out.push_back(static_cast<char>((val >> bits) & 0xff));
            bits -= 8;
        }
    }
    return out;
}

HostKeyVerdict check_host_key(std::string_view known_hosts, const std::string& host, std::string_view key) {
    bool listed = false, matched = false;
    for (std::string_view line : split(known_hosts, '\n')) {
        auto f = fields(line);
        if (f.empty() || f[0][0] == '#') continue;
        std::string_view marker;
        if (f[0][0] == '@') {
            marker = f[0];
            f.erase(f.begin());
        }
        if (f.size() < 3) continue;
        bool same_key = base64_decode(f[2]) == key;
        if (marker == "@revoked") {
            if (same_key) return HostKeyVerdict::revoked;
            continue;
        }
        if (!marker.empty()) continue;  // @cert-authority: huddle does not check host certificates
        if (!hosts_match(f[0], host)) continue;
        listed = true;
        matched = matched || same_key;
    }
    return matched ? HostKeyVerdict::match : listed ? HostKeyVerdict::mismatch : HostKeyVerdict::not_listed;
}

}  // namespace huddle
