// Signed tags cut as git cuts them, and the answers of ssh-keygen -Y and
// gpgv read; the outputs are the tools' own (OpenSSH 9.2, GnuPG 2.2).
#include "catch.hpp"
#include "core/config.hpp"
#include "core/signature.hpp"
#include "core/state.hpp"

using namespace huddle;

namespace {
const char* kSshSig = "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n";
const char* kPgpSig = "-----BEGIN PGP SIGNATURE-----\n\niHUEABYKAB0\n-----END PGP SIGNATURE-----\n";
}  // namespace

TEST_CASE("signature: the kind is read from the armor's first line", "[signature]") {
    CHECK(signature_kind("") == SignatureKind::none);
    CHECK(signature_kind("\n  ") == SignatureKind::none);
    CHECK(signature_kind(kSshSig) == SignatureKind::ssh);
    CHECK(signature_kind(kPgpSig) == SignatureKind::openpgp);
    CHECK(signature_kind("-----BEGIN PGP MESSAGE-----\n") == SignatureKind::openpgp);
    CHECK(signature_kind("-----BEGIN SIGNED MESSAGE-----\n") == SignatureKind::unknown);  // x509: not checked
}

TEST_CASE("signature: a tag's payload is everything before its last signature block", "[signature]") {
    std::string head = "object 1111111111111111111111111111111111111111\ntype commit\ntag v1\ntagger t <t@e> 1700000000 +0000\n\nrelease 1\n";
    auto sp = split_tag_signature(head + kSshSig);
    REQUIRE(sp);
    CHECK(sp->payload == head);
    CHECK(sp->signature == kSshSig);
    CHECK(!split_tag_signature(head));
    // A block quoted in the message is part of what was signed: the last one counts.
    std::string quoted = head + "-----BEGIN PGP SIGNATURE-----\nquoted\n-----END PGP SIGNATURE-----\nmore\n";
    sp = split_tag_signature(quoted + kPgpSig);
    REQUIRE(sp);
    CHECK(sp->payload == quoted);
    // Not at a line's start: not a signature.
    CHECK(!split_tag_signature(head + "say -----BEGIN SSH SIGNATURE-----\n"));
}

TEST_CASE("signature: ssh-keygen -Y verify's answer names the principal and the key", "[signature]") {
    auto s = parse_ssh_verify("Good \"git\" signature for rel@example.org with ED25519 key SHA256:J+lwOtAXgCyRwCAZWx7RQbxxP+BZRkvZ29L/i3SKB6w\n");
    REQUIRE(s);
    CHECK(s->principal == "rel@example.org");
    CHECK(s->fingerprint == "SHA256:J+lwOtAXgCyRwCAZWx7RQbxxP+BZRkvZ29L/i3SKB6w");
    CHECK(!parse_ssh_verify("Good \"file\" signature for rel@example.org with ED25519 key SHA256:x\n"));  // another namespace
    CHECK(!parse_ssh_verify("Could not verify signature.\n"));
    CHECK(!parse_ssh_verify("signers:2: key has expired\nNo principal matched.\n"));
    CHECK(!parse_ssh_verify("Good \"git\" signature for  with ED25519 key \n"));
    CHECK(parse_ssh_key_fingerprint("Good \"git\" signature with ED25519 key SHA256:QnBp8DdU3vBr\n") == "SHA256:QnBp8DdU3vBr");
    CHECK(parse_ssh_key_fingerprint("Could not verify signature.\n").empty());
}

TEST_CASE("signature: gpgv's status lines: good only with GOODSIG and VALIDSIG and nothing bad", "[signature]") {
    const char* good =
        "[GNUPG:] NEWSIG\n[GNUPG:] KEY_CONSIDERED 5F25960A9B7E0142399B874563CC3DC9CE4C729F 0\n"
        "[GNUPG:] GOODSIG 63CC3DC9CE4C729F Rel <rel@example.org>\n"
        "[GNUPG:] VALIDSIG 5F25960A9B7E0142399B874563CC3DC9CE4C729F 2026-12-03 1796304661 0 4 0 22 8 00 5F25960A9B7E0142399B874563CC3DC9CE4C729F\n";
    auto v = parse_gpg_status(good);
    CHECK(v.good);
    CHECK(v.signer.principal == "Rel <rel@example.org>");
    CHECK(v.signer.fingerprint == "5F25960A9B7E0142399B874563CC3DC9CE4C729F");
    // gpgv exits 0 for a signature by an expired key: only the status says so.
    const char* expired =
        "[GNUPG:] NEWSIG old2@example.org\n[GNUPG:] KEYEXPIRED 1767312000\n"
        "[GNUPG:] EXPKEYSIG 8E6236C963A506FD Old2 <old2@example.org>\n"
        "[GNUPG:] VALIDSIG 1A8B2D95712444CA8F16E0778E6236C963A506FD 2026-01-01 1767229200 0 4 0 22 8 00 1A8B2D95712444CA8F16E0778E6236C963A506FD\n";
    v = parse_gpg_status(expired);
    CHECK(!v.good);
    CHECK(v.why == "the key has expired");
    CHECK(v.signer.principal == "Old2 <old2@example.org>");
    v = parse_gpg_status("[GNUPG:] NEWSIG\n[GNUPG:] REVKEYSIG 8E6236C963A506FD R <r@e>\n[GNUPG:] VALIDSIG AAAA\n");
    CHECK(!v.good);
    CHECK(v.why == "the key has been revoked");
    v = parse_gpg_status("[GNUPG:] NEWSIG\n[GNUPG:] BADSIG 8E6236C963A506FD R <r@e>\n");
    CHECK(!v.good);
    CHECK(v.why.rfind("bad signature", 0) == 0);
    v = parse_gpg_status("[GNUPG:] NEWSIG\n[GNUPG:] ERRSIG 63CC3DC9CE4C729F 22 8 00 1796304661 9 5F25960A9B7E0142399B874563CC3DC9CE4C729F\n"
                         "[GNUPG:] NO_PUBKEY 63CC3DC9CE4C729F\n");
    CHECK(!v.good);
    CHECK(v.why == "the key 63CC3DC9CE4C729F is not in the keyring");
    CHECK(v.signer.fingerprint == "5F25960A9B7E0142399B874563CC3DC9CE4C729F");
    CHECK(!parse_gpg_status(std::string(good) + good).good);  // two signatures
    CHECK(!parse_gpg_status("[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG 63CC3DC9CE4C729F Rel\n").good);  // no VALIDSIG
    CHECK(!parse_gpg_status("GOODSIG x y\nVALIDSIG x\n").good);  // not status lines
    CHECK(!parse_gpg_status("").good);
}

TEST_CASE("signature: the signer survives state.json and is found for a rollback", "[signature]") {
    AppState s;
    s.deployed = "c2";
    s.signer = {"rel@example.org", "SHA256:abc"};
    s.history.push_back({1, "c1", "refs/heads/main", "deployed", "", {"old@example.org", "SHA256:old"}});
    s.history.push_back({2, "c2", "refs/heads/main", "deployed", "", {"rel@example.org", "SHA256:abc"}});
    std::string err;
    auto back = state_from_json(state_to_json(s), err);
    REQUIRE(back);
    CHECK(back->signer.principal == "rel@example.org");
    CHECK(back->signer.fingerprint == "SHA256:abc");
    CHECK(back->history[0].signer.principal == "old@example.org");
    CHECK(signer_of_release(*back, "c1").fingerprint == "SHA256:old");
    CHECK(signer_of_release(*back, "c3").principal.empty());
    // A state written before signatures existed reads as unsigned.
    auto old = state_from_json(R"({"deployed": "c1", "history": [{"commit": "c1", "result": "deployed"}]})", err);
    REQUIRE(old);
    CHECK(old->signer.principal.empty());
}
