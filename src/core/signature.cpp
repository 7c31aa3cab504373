#include "signature.hpp"

#include <vector>

namespace huddle {
namespace {

// The fuzz build may compile the core as C++17 (fuzz/meson.build): no starts_with.
bool begins(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

constexpr std::string_view kSsh = "-----BEGIN SSH SIGNATURE-----";
constexpr std::string_view kPgp = "-----BEGIN PGP SIGNATURE-----";
constexpr std::string_view kPgpMessage = "-----BEGIN PGP MESSAGE-----";

std::vector<std::string_view> lines_of(std::string_view s) {
    std::vector<std::string_view> out;
    while (!s.empty()) {
        size_t nl = s.find('\n');
        std::string_view line = s.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        out.push_back(line);
        if (nl == std::string_view::npos) break;
        s.remove_prefix(nl + 1);
    }
    return out;
}

std::vector<std::string_view> words_of(std::string_view s) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ') ++i;
        size_t j = s.find(' ', i);
        if (j == std::string_view::npos) j = s.size();
        if (j > i) out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

// After the first N words of S (and the spaces after them).
std::string_view rest_after(std::string_view s, size_t n) {
    for (size_t k = 0; k < n; ++k) {
        size_t sp = s.find(' ');
        if (sp == std::string_view::npos) return {};
        s.remove_prefix(sp + 1);
    }
    return s;
}

}  // namespace

SignatureKind signature_kind(std::string_view sig) {
    size_t start = sig.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos) return SignatureKind::none;
    sig.remove_prefix(start);
    if (begins(sig, kSsh)) return SignatureKind::ssh;
    if (begins(sig, kPgp) || begins(sig, kPgpMessage)) return SignatureKind::openpgp;
    return SignatureKind::unknown;
}

std::optional<SignedPayload> split_tag_signature(std::string_view tag) {
    // As git's parse_signed_buffer: the last line that opens a signature.
    size_t match = std::string_view::npos;
    for (size_t pos = 0; pos < tag.size();) {
        std::string_view rest = tag.substr(pos);
        if (begins(rest, kSsh) || begins(rest, kPgp) || begins(rest, kPgpMessage)) match = pos;
        size_t nl = tag.find('\n', pos);
        pos = nl == std::string_view::npos ? tag.size() : nl + 1;
    }
    if (match == std::string_view::npos) return std::nullopt;
    return SignedPayload{std::string(tag.substr(0, match)), std::string(tag.substr(match))};
}

std::optional<Signer> parse_ssh_verify(std::string_view output, std::string_view name_space) {
    std::string prefix = "Good \"" + std::string(name_space) + "\" signature for ";
    for (std::string_view line : lines_of(output)) {
        if (!begins(line, prefix)) continue;
        line.remove_prefix(prefix.size());
        size_t with = line.rfind(" with ");
        size_t key = line.rfind(" key ");
        if (with == std::string_view::npos || key == std::string_view::npos || key < with || with == 0) continue;
        std::string_view fp = line.substr(key + 5);
        if (fp.empty() || fp.find(' ') != std::string_view::npos) continue;
        return Signer{std::string(line.substr(0, with)), std::string(fp)};
    }
    return std::nullopt;
}

std::string parse_ssh_key_fingerprint(std::string_view output) {
    for (std::string_view line : lines_of(output)) {
        if (!begins(line, "Good \"")) continue;
        size_t key = line.rfind(" key ");
        if (key == std::string_view::npos) continue;
        std::string_view fp = line.substr(key + 5);
        if (!fp.empty() && fp.find(' ') == std::string_view::npos) return std::string(fp);
    }
    return "";
}

OpenPgpVerdict parse_gpg_status(std::string_view status) {
    OpenPgpVerdict v;
    int signatures = 0;
    bool goodsig = false, validsig = false;
    std::string bad;
    constexpr std::string_view kPrefix = "[GNUPG:] ";
    for (std::string_view line : lines_of(status)) {
        if (!begins(line, kPrefix)) continue;
        line.remove_prefix(kPrefix.size());
        if (line.empty() || line[0] == ' ') continue;  // gpgv writes the keyword right after the prefix
        auto w = words_of(line);
        if (w.empty()) continue;
        std::string_view kw = w[0];
        auto uid = [&] { return std::string(rest_after(line, 2)); };
        if (kw == "NEWSIG") {
            ++signatures;
        } else if (kw == "GOODSIG" && w.size() >= 2) {
            goodsig = true;
            v.signer.principal = uid();
            if (v.signer.fingerprint.empty()) v.signer.fingerprint = std::string(w[1]);
        } else if (kw == "VALIDSIG" && w.size() >= 2) {
            validsig = true;
            v.signer.fingerprint = std::string(w.size() >= 11 ? w[10] : w[1]);  // the primary key's
        } else if ((kw == "EXPKEYSIG" || kw == "REVKEYSIG" || kw == "BADSIG") && w.size() >= 2) {
            v.signer.principal = uid();
            v.signer.fingerprint = std::string(w[1]);
            bad = kw == "EXPKEYSIG" ? "the key has expired" : kw == "REVKEYSIG" ? "the key has been revoked" : "bad signature (the signed content was changed, or the signature is not for it)";
        } else if (kw == "EXPSIG" && w.size() >= 2) {
            v.signer.principal = uid();
            bad = "the signature has expired";
        } else if (kw == "ERRSIG" && w.size() >= 2) {
            v.signer.fingerprint = std::string(w.size() >= 8 && w[7] != "-" ? w[7] : w[1]);
            if (bad.empty()) bad = "the signature could not be checked";
        } else if (kw == "NO_PUBKEY" && w.size() >= 2) {
            bad = "the key " + std::string(w[1]) + " is not in the keyring";
        }
    }
    if (signatures > 1) v.why = "more than one signature; huddle checks exactly one";
    else if (!bad.empty()) v.why = bad;
    else if (!goodsig || !validsig) v.why = "gpgv reported no good signature";
    else v.good = true;
    return v;
}

}  // namespace huddle
