// Fuzz target: what huddle reads of signed git objects and of the
// verifying tools' answers (core/signature.hpp): a tag object cut into
// payload and signature, ssh-keygen -Y output, gpgv status lines. The
// tools do the cryptography; this checks that reading their words never
// crashes and never calls something good that does not say so.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/signature.hpp"

namespace {
void require(bool ok) {
    if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace huddle;
    const std::string text(reinterpret_cast<const char*>(data), size);
    signature_kind(text);
    if (auto sp = split_tag_signature(text)) {
        require(sp->payload + sp->signature == text);
        SignatureKind k = signature_kind(sp->signature);
        require(k == SignatureKind::ssh || k == SignatureKind::openpgp);
    }
    if (auto s = parse_ssh_verify(text)) {
        require(!s->principal.empty() && !s->fingerprint.empty());
        require(s->fingerprint.find(' ') == std::string::npos);
        require(text.find("Good \"git\" signature for ") != std::string::npos);
    }
    std::string fp = parse_ssh_key_fingerprint(text);
    require(fp.find(' ') == std::string::npos);
    OpenPgpVerdict v = parse_gpg_status(text);
    if (v.good) {
        require(v.why.empty() && !v.signer.fingerprint.empty());
        require(text.find("[GNUPG:] GOODSIG ") != std::string::npos && text.find("[GNUPG:] VALIDSIG ") != std::string::npos);
    } else {
        require(!v.why.empty());
    }
    return 0;
}
