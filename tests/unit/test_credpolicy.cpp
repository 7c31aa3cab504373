#include "catch.hpp"
#include "core/config.hpp"
#include "core/credpolicy.hpp"
#include "core/escape.hpp"

using namespace huddle;

namespace {
const std::string kCred = "/etc/huddle/credentials/c";
CredChoice choose(const std::string& remote, const std::string& asked, bool key, bool password) {
    return choose_credential(remote, asked, key, password, kCred);
}
}  // namespace

TEST_CASE("credentials by scheme: an ssh remote gets the key, as a key, and nothing else") {
    for (const char* remote : {"ssh://git@example.org/app.git", "git+ssh://example.org:22/app.git", "git@example.org:app.git"}) {
        CHECK(choose(remote, remote, true, true).offer == CredOffer::ssh_key);
        // A server that offers only passwords (or keyboard-interactive) gets nothing.
        CredChoice c = choose(remote, remote, false, true);
        CHECK(c.offer == CredOffer::refuse);
        CHECK(c.refusal.find("does not accept public key authentication") != std::string::npos);
        CHECK(c.refusal.find(kCred) != std::string::npos);
        CHECK(choose(remote, remote, false, false).offer == CredOffer::refuse);
    }
}

TEST_CASE("credentials by scheme: a token goes only over https, never to ssh, git:// or file://") {
    CHECK(choose("https://forge.example/app.git", "https://forge.example/app.git", true, true).offer == CredOffer::token);
    CHECK(choose("https://forge.example/app.git", "https://forge.example/app.git", true, false).offer == CredOffer::refuse);
    CredChoice h = choose("http://forge.example/app.git", "http://forge.example/app.git", false, true);
    CHECK(h.offer == CredOffer::refuse);
    CHECK(h.refusal.find("cleartext") != std::string::npos);
    CHECK(choose("git://forge.example/app.git", "git://forge.example/app.git", true, true).offer == CredOffer::refuse);
    CHECK(choose("file:///srv/git/app.git", "file:///srv/git/app.git", true, true).offer == CredOffer::refuse);
    CHECK(choose("/srv/git/app.git", "/srv/git/app.git", true, true).offer == CredOffer::refuse);
}

TEST_CASE("credentials go only to the configured scheme, host and port") {
    const std::string remote = "https://forge.example/app.git";
    CHECK(choose(remote, "https://FORGE.example:443/other/path", false, true).offer == CredOffer::token);
    for (const char* other : {"https://evil.example/app.git", "https://forge.example:8443/app.git", "http://forge.example/app.git",
                              "ssh://forge.example/app.git", "", "not a url"}) {
        CredChoice c = choose(remote, other, true, true);
        CHECK(c.offer == CredOffer::refuse);
        CHECK(c.refusal.find("only to the configured host") != std::string::npos);
    }
    CHECK(choose("ssh://git@h:2222/r", "ssh://git@h:2223/r", true, true).offer == CredOffer::refuse);
    CHECK(choose("git@h:r", "ssh://git@h/r", true, true).offer == CredOffer::ssh_key);
    // What the other URL says is escaped in the message.
    CHECK(choose(remote, "https://ev\x1bil/x", true, true).refusal.find('\x1b') == std::string::npos);
}

TEST_CASE("endpoint_of and looks_like_private_key") {
    CHECK(endpoint_of("SSH://Git@Example.org/r") == Endpoint{"ssh", "example.org", "22"});
    CHECK(endpoint_of("https://h:8443/r") == Endpoint{"https", "h", "8443"});
    CHECK(endpoint_of("me@host:path/r.git") == Endpoint{"ssh", "host", "22"});
    CHECK_FALSE(endpoint_of("/srv/git/r.git"));
    CHECK_FALSE(endpoint_of("file:///srv/git/r.git"));
    CHECK(looks_like_private_key("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blb...\n"));
    CHECK(looks_like_private_key("-----BEGIN EC PRIVATE KEY-----\nMHc...\n"));
    CHECK_FALSE(looks_like_private_key("deploy:s3cr3t\n"));
    CHECK_FALSE(looks_like_private_key("-----BEGIN CERTIFICATE-----\n"));
}

TEST_CASE("config: credential with an http:// remote is an error naming the key") {
    auto r = load_config("app", "app.ini", Format::ini, "[repository]\nremote path = http://forge.example/app.git\ncredential = tok\n");
    bool found = false;
    for (const auto& d : r.diags.items())
        if (d.severity == Severity::error && d.loc.line == 3 && d.key.find("credential") != std::string::npos &&
            d.message.find("use https://") != std::string::npos)
            found = true;
    CHECK(found);
    CHECK(load_config("app", "app.ini", Format::ini, "[repository]\nremote path = https://forge.example/app.git\ncredential = tok\n").config);
    CHECK(load_config("app", "app.ini", Format::ini, "[repository]\nremote path = http://forge.example/app.git\n").config);
}

TEST_CASE("escape_untrusted: control bytes, C1 controls and invalid UTF-8 as \\xNN") {
    CHECK(escape_untrusted("refs/tags/v1") == "refs/tags/v1");
    CHECK(escape_untrusted("a\x1b[31mb\nc") == "a\\x1b[31mb\\x0ac");
    CHECK(escape_untrusted("back\\slash") == "back\\\\slash");
    CHECK(escape_untrusted("caf\xc3\xa9") == "caf\xc3\xa9");
    CHECK(escape_untrusted("\xc2\x9b" "2J") == "\\xc2\\x9b2J");
    CHECK(escape_untrusted("\xff\xc3") == "\\xff\\xc3");
    CHECK(escape_untrusted(std::string("n\0ul", 4)) == "n\\x00ul");
    CHECK(escape_untrusted("\x7f") == "\\x7f");
}
