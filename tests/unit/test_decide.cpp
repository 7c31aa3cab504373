#include "catch.hpp"
#include "core/decide.hpp"

using namespace huddle;

namespace {
RepositoryConfig repo() {
    RepositoryConfig r;
    r.branch = "main";
    r.local_path = "/srv/web";
    return r;
}
PollFacts at(const std::string& oid) {
    PollFacts f;
    f.refs = {{"refs/heads/main", oid, ""}, {"refs/heads/dev", std::string(40, 'd'), ""}};
    return f;
}
const std::string A(40, 'a'), B(40, 'b');
}  // namespace

TEST_CASE("decide: deploy a moved ref, nothing when live, skip a bad commit until the ref moves", "[decide]") {
    PollFacts f = at(B);
    f.live = A;
    Verdict v = decide(repo(), f);
    CHECK(v.kind == VerdictKind::deploy);
    CHECK(v.commit == B);
    CHECK(v.ref == "refs/heads/main");
    f.live = B;
    CHECK(decide(repo(), f).kind == VerdictKind::up_to_date);
    f.live = A;
    f.state.bad = {B};
    CHECK(decide(repo(), f).kind == VerdictKind::skip_bad);
    CHECK(describe(decide(repo(), f)) == "would skip bbbbbbbbbbbb (refs/heads/main): it failed before; retried when refs/heads/main moves");
    f.refs[0].oid = std::string(40, 'c');
    CHECK(decide(repo(), f).kind == VerdictKind::deploy);
}

TEST_CASE("decide: a pin wins over the ref, by its full id once known", "[decide]") {
    RepositoryConfig r = repo();
    r.commit = "aaaaaaa";
    PollFacts f = at(B);
    CHECK(decide(r, f).commit == "aaaaaaa");
    f.pinned_full = A;
    CHECK(decide(r, f).commit == A);
    f.live = A;
    CHECK(decide(r, f).kind == VerdictKind::up_to_date);
    f.pinned_full.clear();  // an abbreviation of the live commit is up to date too
    CHECK(decide(r, f).kind == VerdictKind::up_to_date);
}

TEST_CASE("decide: a foreign local path is refused before anything else", "[decide]") {
    PollFacts f = at(B);
    f.live_foreign = true;
    Verdict v = decide(repo(), f);
    CHECK(v.kind == VerdictKind::refuse);
    CHECK(v.refusal == Refusal::foreign_path);
    CHECK(describe(v).rfind("refused: /srv/web exists and is not huddle's release symlink", 0) == 0);
}

TEST_CASE("decide: no ref to follow is a refusal with the selector's reason", "[decide]") {
    RepositoryConfig r = repo();
    r.branch = "release";
    Verdict v = decide(r, at(B));
    CHECK(v.kind == VerdictKind::refuse);
    CHECK(v.refusal == Refusal::no_ref);
    CHECK_FALSE(v.why.empty());
}
