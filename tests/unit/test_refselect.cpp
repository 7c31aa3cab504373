#include "catch.hpp"

#include "core/refselect.hpp"
#include "core/state.hpp"

using namespace huddle;

namespace {
const std::vector<RemoteRef> kRefs = {
    {"HEAD", "aaa", "refs/heads/main"},
    {"refs/heads/main", "aaa", ""},
    {"refs/heads/dev", "bbb", ""},
    {"refs/tags/release-9", "c09", ""},
    {"refs/tags/release-10", "t10", ""},
    {"refs/tags/release-10^{}", "c10", ""},
    {"refs/tags/release-2", "c02", ""},
    {"refs/tags/other-99", "c99", ""},
};
RepositoryConfig repo(const std::string& branch, const std::string& tag) {
    RepositoryConfig r;
    r.branch = branch;
    r.tag = tag;
    return r;
}
}  // namespace

TEST_CASE("refs: branch, default branch, tag glob in version order") {
    struct Row {
        const char* branch;
        const char* tag;
        const char* ref;
        const char* oid;
    };
    const Row rows[] = {
        {"", "", "refs/heads/main", "aaa"},
        {"dev", "", "refs/heads/dev", "bbb"},
        {"", "release-*", "refs/tags/release-10", "c10"},  // annotated: peeled
        {"", "release-[0-9]", "refs/tags/release-9", "c09"},
        {"", "other-*", "refs/tags/other-99", "c99"},
    };
    for (const auto& r : rows) {
        INFO(r.branch << " " << r.tag);
        WantedRef w = select_ref(repo(r.branch, r.tag), kRefs);
        CHECK(w.error.empty());
        CHECK(w.ref == r.ref);
        CHECK(w.oid == r.oid);
    }
}

TEST_CASE("refs: what cannot be chosen says why") {
    CHECK_THAT(select_ref(repo("gone", ""), kRefs).error, Catch::Contains("no branch 'gone'"));
    CHECK_THAT(select_ref(repo("", "v*"), kRefs).error, Catch::Contains("no tag"));
    CHECK_THAT(select_ref(repo("", ""), {{"refs/heads/x", "1", ""}}).error, Catch::Contains("default branch"));
    // HEAD without symref information: the branch it points at.
    WantedRef w = select_ref(repo("", ""), {{"HEAD", "bbb", ""}, {"refs/heads/main", "aaa", ""}, {"refs/heads/dev", "bbb", ""}});
    CHECK(w.ref == "refs/heads/dev");
}

TEST_CASE("refs: version order") {
    CHECK(version_less("release-9", "release-10"));
    CHECK(version_less("v1.2", "v1.10"));
    CHECK_FALSE(version_less("release-10", "release-9"));
}

TEST_CASE("state: round trip and bad commits") {
    AppState s;
    s.deployed = "abc";
    s.previous = "def";
    s.ref = "refs/heads/main";
    s.bad = {"bad1"};
    add_history(s, {1700000000, "abc", "refs/heads/main", "deployed", "", {}});
    std::string err;
    auto back = state_from_json(state_to_json(s), err);
    REQUIRE(back);
    CHECK(back->deployed == "abc");
    CHECK(back->previous == "def");
    CHECK(is_bad(*back, "bad1"));
    CHECK_FALSE(is_bad(*back, "abc"));
    REQUIRE(back->history.size() == 1);
    CHECK(back->history[0].time == 1700000000);
    CHECK_FALSE(state_from_json("{not json", err));
    CHECK_FALSE(err.empty());
    for (int i = 0; i < 150; ++i) add_history(s, {i, "c", "r", "deployed", "", {}});
    CHECK(s.history.size() == 100);
    CHECK(s.history.back().time == 149);
}
