// The deploy cycle's trust checks against the fakes (fakes.hpp): what must
// be signed is checked before anything is checked out, a refusal leaves the
// running release alone and marks the commit bad, and rewinds are refused.
// The fake verifier takes a signature "good:PRINCIPAL" as PRINCIPAL's.
#include "catch.hpp"
#include "fakes.hpp"

using namespace huddle;
using huddle::test::World;

namespace {
void sign(World& w, const std::string& commit, const std::string& who) { w.git.signatures[commit] = {"payload of " + commit, "good:" + who}; }
}  // namespace

TEST_CASE("trust: an unsigned commit is refused before checkout; the next signed one deploys with its signer", "[cycle][trust]") {
    World w;
    w.config.repo.signers = "/etc/huddle/keys/signers";
    w.config.repo.verify = VerifyMode::commit;
    std::string c1 = w.git.push("main", 'a', "v1");
    sign(w, c1, "rel@example.org");
    REQUIRE(w.poll() == sys::kFetchOk);
    CHECK(w.live() == c1);
    CHECK(w.state_json().find("\"principal\": \"rel@example.org\"") != std::string::npos);
    CHECK(w.logged("deployed aaaaaaaaaaaa (refs/heads/main), signed by rel@example.org (SHA256:fake-rel@example.org)"));
    std::string c2 = w.git.push("main", 'b', "v2");  // not signed
    int checkouts = w.git.checkouts;
    w.systemd.calls.clear();
    CHECK(w.poll() == sys::kFetchRejected);
    CHECK(w.live() == c1);
    CHECK(w.git.checkouts == checkouts);  // nothing of it was written
    CHECK(w.systemd.calls.empty());
    CHECK(w.logged("release bbbbbbbbbbbb rejected (signature: commit bbbbbbbbbbbb: not signed)"));
    int verifications = w.verifications;
    CHECK(w.poll() == sys::kFetchOk);  // remembered as bad: not checked again
    CHECK(w.verifications == verifications);
    std::string c3 = w.git.push("main", 'c', "v3");
    sign(w, c3, "rel@example.org");
    CHECK(w.poll() == sys::kFetchOk);
    CHECK(w.live() == c3);
}

TEST_CASE("trust: a poll with nothing new checks no signature", "[cycle][trust]") {
    World w;
    w.config.repo.signers = "/etc/huddle/keys/signers";
    w.config.repo.verify = VerifyMode::commit;
    sign(w, w.git.push("main", 'a', "v1"), "rel@example.org");
    REQUIRE(w.poll() == sys::kFetchOk);
    CHECK(w.verifications == 1);
    REQUIRE(w.poll() == sys::kFetchOk);
    CHECK(w.verifications == 1);
}

TEST_CASE("trust: a force-push back or to another history is refused, unless rewind = true", "[cycle][trust]") {
    World w;
    std::string c1 = w.git.push("main", 'a', "v1");
    REQUIRE(w.poll() == sys::kFetchOk);
    std::string c2 = w.git.push("main", 'b', "v2");
    REQUIRE(w.poll() == sys::kFetchOk);
    w.git.refs[0].oid = c1;  // force-pushed back
    CHECK(w.poll() == sys::kFetchRejected);
    CHECK(w.live() == c2);
    CHECK(w.logged("rewind: aaaaaaaaaaaa does not descend from the deployed bbbbbbbbbbbb"));
    std::string other(40, 'e');  // unrelated history
    w.git.commits[other] = {{"app.txt", "other"}};
    w.git.refs[0].oid = other;
    CHECK(w.poll() == sys::kFetchRejected);
    CHECK(w.live() == c2);
    w.config.repo.rewind = true;
    std::string back(40, 'f');
    w.git.commits[back] = {{"app.txt", "back"}};
    w.git.refs[0].oid = back;
    CHECK(w.poll() == sys::kFetchOk);
    CHECK(w.live() == back);
}

TEST_CASE("trust: verify = tag refuses a lightweight tag and an unsigned one, deploys a signed one", "[cycle][trust]") {
    World w;
    w.config.repo.branch.clear();
    w.config.repo.tag = "v*";
    w.config.repo.signers = "/etc/huddle/keys/signers";
    w.config.repo.verify = VerifyMode::tag;
    std::string c1(40, 'a');
    w.git.commits[c1] = {{"app.txt", "v1"}};
    w.git.refs = {{"refs/tags/v1", c1, ""}};  // lightweight
    CHECK(w.poll() == sys::kFetchRejected);
    CHECK(w.logged("tag refs/tags/v1 is a lightweight tag"));
    std::string c2(40, 'b'), t2(40, '2');
    w.git.commits[c2] = {{"app.txt", "v2"}};
    w.git.tags[t2] = "object " + c2 + "\ntype commit\ntag v2\n\nv2\n";  // annotated, not signed
    w.git.tag_targets[t2] = c2;
    w.git.refs = {{"refs/tags/v2", t2, ""}, {"refs/tags/v2^{}", c2, ""}};
    CHECK(w.poll() == sys::kFetchRejected);
    CHECK(w.logged("signature: tag refs/tags/v2: not signed"));
    std::string c3(40, 'c'), t3(40, '3');
    w.git.commits[c3] = {{"app.txt", "v3"}};
    w.git.tags[t3] = "object " + c3 + "\ntype commit\ntag v3\n\nv3\n-----BEGIN SSH SIGNATURE-----\nx\n-----END SSH SIGNATURE-----\n";
    w.git.tag_targets[t3] = c3;
    w.git.refs = {{"refs/tags/v3", t3, ""}, {"refs/tags/v3^{}", c3, ""}};
    // The fake verifier refuses that armor: a signer not allowed.
    CHECK(w.poll() == sys::kFetchRejected);
    CHECK(w.logged("signature: tag refs/tags/v3: signed by a key not allowed"));
}
