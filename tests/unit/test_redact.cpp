#include "catch.hpp"
#include "sys/git.hpp"

using namespace huddle::sys;

TEST_CASE("redact_url hides the whole user part, up to its last '@'") {
    CHECK(redact_url("ssh://git@example.org/app.git") == "ssh://***@example.org/app.git");
    CHECK(redact_url("ssh://me:p@ss@example.org:2222/r") == "ssh://***@example.org:2222/r");
    CHECK(redact_url("https://example.org/a@b") == "https://example.org/a@b");
    CHECK(redact_url("git@example.org:app.git") == "git@example.org:app.git");
    CHECK(redact_url("/srv/git/app.git") == "/srv/git/app.git");
}
