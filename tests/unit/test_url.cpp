#include "catch.hpp"
#include "core/url.hpp"

using namespace huddle;

TEST_CASE("split_url cuts a URL into scheme, user, host, port and path") {
    auto u = split_url("SSH://git@example.org:2222/srv/app.git");
    REQUIRE(u);
    CHECK(u->scheme == "ssh");
    CHECK(u->scheme_length == 3);
    CHECK(u->authority == "git@example.org:2222");
    CHECK(u->has_userinfo);
    CHECK(u->userinfo == "git");
    CHECK(u->host == "example.org");
    CHECK(u->port == "2222");
    CHECK(u->path == "/srv/app.git");
}

TEST_CASE("split_url: no port, no user, no path; IPv6 hosts keep their colons") {
    auto a = split_url("https://example.org");
    REQUIRE(a);
    CHECK_FALSE(a->has_userinfo);
    CHECK(a->host == "example.org");
    CHECK(a->port.empty());
    CHECK(a->path.empty());
    auto b = split_url("ssh://[::1]:2200/r");
    REQUIRE(b);
    CHECK(b->host == "[::1]");
    CHECK(b->port == "2200");
    auto c = split_url("ssh://[::1]/r");
    REQUIRE(c);
    CHECK(c->host == "[::1]");
    CHECK(c->port.empty());
    auto f = split_url("file:///srv/git/app.git");
    REQUIRE(f);
    CHECK(f->authority.empty());
    CHECK(f->path == "/srv/git/app.git");
}

TEST_CASE("split_url: the user ends at the last '@', so a secret holding '@' never shows as the host") {
    auto u = split_url("ssh://me:p@ss@host/r");
    REQUIRE(u);
    CHECK(u->userinfo == "me:p@ss");
    CHECK(u->host == "host");
}

TEST_CASE("split_url: scp form and paths are not URLs") {
    CHECK_FALSE(split_url("git@example.org:app.git"));
    CHECK_FALSE(split_url("/srv/git/app.git"));
    CHECK_FALSE(split_url("/srv/x://y"));
}
