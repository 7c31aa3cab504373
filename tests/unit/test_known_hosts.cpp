#include "catch.hpp"

#include "core/known_hosts.hpp"

using huddle::base64_decode;
using huddle::check_host_key;
using V = huddle::HostKeyVerdict;

namespace {
// Two ed25519 keys; the hashed lines were written by `ssh-keygen -H` from
// "git.example.com K1" and "[git.example.com]:2222 K2".
const std::string k1_b64 = "AAAAC3NzaC1lZDI1NTE5AAAAIDW29i+pRLdDl2WrfEqjnxqWUlbSIPUy6UvtExp6oLmL";
const std::string k2_b64 = "AAAAC3NzaC1lZDI1NTE5AAAAIJDecEgr5/d0O34fQZ3x0vFXgmQvNTruhCj1xnBR7j6Y";
const std::string hashed =
    "|1|rPExxQOLD7SK6sAd20OkIqi3f7o=|GXIkA/xqllJ7SYUEyekojZCPZVU= ssh-ed25519 " + k1_b64 + "\n" +
    "|1|AXDtxzlhHdYbvSpbc/IVEXYygig=|vATQfOI9uV/GtFi2AFiOf4QUQK4= ssh-ed25519 " + k2_b64 + "\n";
}  // namespace

TEST_CASE("known hosts: plain entries, ports, patterns") {
    std::string k1 = base64_decode(k1_b64), k2 = base64_decode(k2_b64);
    REQUIRE(k1.size() == 51);
    std::string plain = "# comment\n\ngit.example.com,10.0.0.1 ssh-ed25519 " + k1_b64 + " root@x\n" +
                        "[git.example.com]:2222 ssh-ed25519 " + k2_b64 + "\n";
    CHECK(check_host_key(plain, "git.example.com", k1) == V::match);
    CHECK(check_host_key(plain, "10.0.0.1", k1) == V::match);
    CHECK(check_host_key(plain, "git.example.com", k2) == V::mismatch);
    CHECK(check_host_key(plain, "[git.example.com]:2222", k2) == V::match);
    CHECK(check_host_key(plain, "[git.example.com]:2222", k1) == V::mismatch);
    CHECK(check_host_key(plain, "other.example.com", k1) == V::not_listed);
    CHECK(check_host_key("", "git.example.com", k1) == V::not_listed);

    std::string patterns = "*.example.com,!evil.example.com ssh-ed25519 " + k1_b64 + "\n";
    CHECK(check_host_key(patterns, "git.example.com", k1) == V::match);
    CHECK(check_host_key(patterns, "evil.example.com", k1) == V::not_listed);
    CHECK(check_host_key(patterns, "GIT.Example.com", k1) == V::match);

    // A second line for the same host with another key (key rotation).
    std::string two = plain + "git.example.com ssh-ed25519 " + k2_b64 + "\n";
    CHECK(check_host_key(two, "git.example.com", k2) == V::match);
}

TEST_CASE("known hosts: hashed entries as ssh-keygen -H writes them") {
    std::string k1 = base64_decode(k1_b64), k2 = base64_decode(k2_b64);
    CHECK(check_host_key(hashed, "git.example.com", k1) == V::match);
    CHECK(check_host_key(hashed, "git.example.com", k2) == V::mismatch);
    CHECK(check_host_key(hashed, "[git.example.com]:2222", k2) == V::match);
    CHECK(check_host_key(hashed, "git.example.org", k1) == V::not_listed);
    // A damaged hash matches nothing.
    std::string broken = hashed;
    broken[5] = broken[5] == 'A' ? 'B' : 'A';
    CHECK(check_host_key(broken.substr(0, broken.find('\n')), "git.example.com", k1) == V::not_listed);
}

TEST_CASE("known hosts: markers") {
    std::string k1 = base64_decode(k1_b64), k2 = base64_decode(k2_b64);
    std::string lines = "git.example.com ssh-ed25519 " + k1_b64 + "\n@revoked * ssh-ed25519 " + k1_b64 + "\n";
    CHECK(check_host_key(lines, "git.example.com", k1) == V::revoked);
    // A CA key is not a host key: huddle does not accept host certificates.
    CHECK(check_host_key("@cert-authority *.example.com ssh-ed25519 " + k2_b64 + "\n", "git.example.com", k2) == V::not_listed);
}
