// Signed git objects and what the verifying tools say about them. Pure: the
// cryptography is OpenSSH's (ssh-keygen -Y) and GnuPG's (gpgv); this only
// cuts a tag object into its payload and signature, tells the signature's
// kind, and reads the tools' answers.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace huddle {

enum class SignatureKind { none, ssh, openpgp, unknown };

// What a signature block (ASCII armor) is, from its first line.
SignatureKind signature_kind(std::string_view signature);

struct SignedPayload {
    std::string payload;    // the bytes the signature covers
    std::string signature;  // the armored signature
};

// An annotated tag object's raw content, as git verify-tag reads it: the
// signature is the last armored block that starts a line of the message;
// the payload is everything before it. nullopt when the tag is not signed.
std::optional<SignedPayload> split_tag_signature(std::string_view tag_object);

// Who signed, as the tools report it.
struct Signer {
    std::string principal;    // ssh: the allowed-signers principal; openpgp: the user id
    std::string fingerprint;  // ssh: "SHA256:..."; openpgp: the primary key's fingerprint
};

// `ssh-keygen -Y verify` output: 'Good "git" signature for PRINCIPAL with
// TYPE key SHA256:...'. nullopt unless that line is there for NAMESPACE.
std::optional<Signer> parse_ssh_verify(std::string_view output, std::string_view name_space = "git");

// `ssh-keygen -Y check-novalidate` output: 'Good "git" signature with TYPE
// key SHA256:...': the key's fingerprint, or "".
std::string parse_ssh_key_fingerprint(std::string_view output);

// gpgv --status-fd lines ("[GNUPG:] GOODSIG ..."). Good only with GOODSIG
// and VALIDSIG for one signature and no sign of a bad, expired or revoked
// key; otherwise `why` says what gpgv found.
struct OpenPgpVerdict {
    bool good = false;
    Signer signer;    // as far as known, also when not good
    std::string why;  // when not good
};
OpenPgpVerdict parse_gpg_status(std::string_view status);

}  // namespace huddle
