// The deploy cycle against fakes of git and systemd (fakes.hpp): every way a
// deploy can go, in milliseconds, with real files and real build steps.
#include <sys/stat.h>

#include "catch.hpp"
#include "fakes.hpp"
#include "sys/release.hpp"

using namespace huddle;
using huddle::test::World;

namespace {
bool exists(const std::string& p) {
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0;
}
}  // namespace

TEST_CASE("cycle: a new commit is fetched, switched to, restarted and recorded", "[cycle]") {
    World w;
    std::string c1 = w.git.push("main", 'a', "v1");
    REQUIRE(w.poll() == sys::kFetchOk);
    CHECK(w.live() == c1);
    CHECK(w.git.fetches == 1);
    CHECK(w.systemd.calls == std::vector<std::string>{"start " + w.unit()});  // first deploy: the app was not running yet
    CHECK(w.state_json().find("\"deployed\": \"" + c1 + "\"") != std::string::npos);
    CHECK(w.logged("deployed aaaaaaaaaaaa (refs/heads/main)"));
}

TEST_CASE("cycle: a poll with nothing new asks the remote, writes nothing, restarts nothing", "[cycle]") {
    World w;
    w.git.push("main", 'a', "v1");
    REQUIRE(w.poll() == sys::kFetchOk);
    std::string before = w.state_json();
    struct stat st1 {};
    ::stat((w.env.state_dir + "/web/state.json").c_str(), &st1);
    w.systemd.calls.clear();
    REQUIRE(w.poll() == sys::kFetchOk);
    CHECK(w.git.ls_remote_calls == 2);
    CHECK(w.git.fetches == 1);
    CHECK(w.systemd.calls.empty());
    struct stat st2 {};
    ::stat((w.env.state_dir + "/web/state.json").c_str(), &st2);
    CHECK(st1.st_ino == st2.st_ino);  // not even rewritten with the same bytes
    CHECK(w.state_json() == before);
}

TEST_CASE("cycle: a running app is restarted; one that crashes while settling is rolled back and its commit remembered", "[cycle]") {
    World w;
    std::string c1 = w.git.push("main", 'a', "v1");
    REQUIRE(w.poll() == sys::kFetchOk);
    std::string c2 = w.git.push("main", 'b', "v2");
    w.systemd.calls.clear();
    w.systemd.next_start.crash_after_checks = 2;  // up after the restart, down during the settle
    CHECK(w.poll() == sys::kFetchRolledBack);
    CHECK(w.live() == c1);
    CHECK(w.systemd.calls == std::vector<std::string>{"restart " + w.unit(), "reset-failed " + w.unit(), "restart " + w.unit()});
    CHECK(w.logged("release bbbbbbbbbbbb is unhealthy: huddle@web.service did not stay up (now activating); rolling back"));
    CHECK(w.state_json().find("\"rolled-back\"") != std::string::npos);

    // The bad commit is not retried while the ref stays on it...
    w.systemd.calls.clear();
    CHECK(w.poll() == sys::kFetchOk);
    CHECK(w.systemd.calls.empty());
    CHECK(w.live() == c1);
    // ...and the next commit on the ref is deployed.
    std::string c3 = w.git.push("main", 'c', "v3");
    CHECK(w.poll() == sys::kFetchOk);
    CHECK(w.live() == c3);
    (void)c2;
}

TEST_CASE("cycle: a start job that fails, or an app not active after it, is rolled back", "[cycle]") {
    World w;
    std::string c1 = w.git.push("main", 'a', "v1");
    REQUIRE(w.poll() == sys::kFetchOk);
    SECTION("the job fails") {
        w.git.push("main", 'b', "v2");
        w.systemd.next_start.start_fails = true;
        CHECK(w.poll() == sys::kFetchRolledBack);
        CHECK(w.logged("starting huddle@web.service failed: job failed"));
    }
    SECTION("active after its start job, then not") {
        w.git.push("main", 'b', "v2");
        w.systemd.next_start.crash_after_checks = 0;
        CHECK(w.poll() == sys::kFetchRolledBack);
        CHECK(w.logged("huddle@web.service is activating after its start job"));
    }
    CHECK(w.live() == c1);
}

TEST_CASE("cycle: a failing health command rolls back; a passing one deploys", "[cycle]") {
    World w;
    std::string c1 = w.git.push("main", 'a', "v1");
    REQUIRE(w.poll() == sys::kFetchOk);
    w.config.deploy.health_command = {"/bin/sh", "-c", "grep -q v2 app.txt && exit 3; exit 0"};
    w.git.push("main", 'b', "v2");
    CHECK(w.poll() == sys::kFetchRolledBack);
    CHECK(w.live() == c1);
    CHECK(w.logged("health command failed: exit status 3"));
    std::string c3 = w.git.push("main", 'c', "v3");
    CHECK(w.poll() == sys::kFetchOk);
    CHECK(w.live() == c3);
}

TEST_CASE("cycle: systemd silent at the end of the settle is no verdict: back to the good release, retried next poll", "[cycle]") {
    World w;
    std::string c1 = w.git.push("main", 'a', "v1");
    REQUIRE(w.poll() == sys::kFetchOk);
    std::string c2 = w.git.push("main", 'b', "v2");
    w.systemd.next_start.silent_after_checks = 2;  // answers the start check and one settle check, then nothing
    CHECK(w.poll() == sys::kFetchTemporary);
    CHECK(w.live() == c1);
    CHECK(w.logged("cannot tell whether release bbbbbbbbbbbb is healthy"));
    CHECK(w.logged("that check is skipped"));
    CHECK(w.state_json().find("\"bad\": []") != std::string::npos);
    // Not remembered as bad: the next poll tries it again and deploys it.
    CHECK(w.poll() == sys::kFetchOk);
    CHECK(w.live() == c2);
}

TEST_CASE("cycle: systemd silent in the middle of the settle only skips that check", "[cycle]") {
    World w;
    w.git.push("main", 'a', "v1");
    REQUIRE(w.poll() == sys::kFetchOk);
    std::string c2 = w.git.push("main", 'b', "v2");
    struct Flaky final : sys::UnitManager {
        test::FakeUnits& u;
        int n = 0;
        explicit Flaky(test::FakeUnits& f) : u(f) {}
        sys::Result<sys::UnitStatus> unit_status(const std::string& unit) override {
            if (++n == 3) return test::Error{-ETIMEDOUT, "Connection timed out"};
            return u.unit_status(unit);
        }
        sys::Status start_and_wait(const std::string& unit, bool r, usec_t t) override { return u.start_and_wait(unit, r, t); }
        sys::Status stop_and_wait(const std::string& unit, usec_t t) override { return u.stop_and_wait(unit, t); }
        sys::Status reset_failed(const std::string& unit) override { return u.reset_failed(unit); }
    };
    w.env.connect_systemd = [&w]() -> sys::Result<std::unique_ptr<sys::UnitManager>> {
        return std::unique_ptr<sys::UnitManager>(new Flaky(w.systemd));
    };
    CHECK(w.poll() == sys::kFetchOk);
    CHECK(w.live() == c2);
    CHECK(w.logged("that check is skipped"));
}

TEST_CASE("cycle: a stopped app gets the new release and stays stopped", "[cycle]") {
    World w;
    w.git.push("main", 'a', "v1");
    REQUIRE(w.poll() == sys::kFetchOk);
    w.systemd.units[w.unit()].state = "inactive";
    w.systemd.calls.clear();
    std::string c2 = w.git.push("main", 'b', "v2");
    CHECK(w.poll() == sys::kFetchOk);
    CHECK(w.live() == c2);
    CHECK(w.systemd.calls.empty());
    CHECK(w.logged("is stopped; the release is updated, the app is left stopped"));
}

TEST_CASE("cycle: the first release failing to come up leaves nothing live and the app stopped", "[cycle]") {
    World w;
    w.git.push("main", 'a', "v1");
    w.systemd.units[w.unit()].state = "inactive";
    w.systemd.next_start.start_fails = true;
    CHECK(w.poll() == sys::kFetchRolledBack);
    CHECK_FALSE(exists(w.config.repo.local_path));
    CHECK(w.systemd.calls.back() == "stop " + w.unit());
}

TEST_CASE("cycle: a failing build is rejected, remembered, and never switched to", "[cycle]") {
    World w;
    std::string c1 = w.git.push("main", 'a', "v1");
    REQUIRE(w.poll() == sys::kFetchOk);
    w.config.deploy.build = {"grep -q broken app.txt && exit 2; true"};
    std::string c2 = w.git.push("main", 'b', "broken");
    w.systemd.calls.clear();
    CHECK(w.poll() == sys::kFetchRejected);
    CHECK(w.live() == c1);
    CHECK(w.systemd.calls.empty());
    CHECK_FALSE(exists(w.env.state_dir + "/web/releases/" + c2));
    CHECK_FALSE(exists(w.env.state_dir + "/web/releases/" + c2 + ".tmp"));
    CHECK(w.logged("release bbbbbbbbbbbb rejected (build: 'grep -q broken app.txt && exit 2; true' failed: exit status 2)"));
    int checkouts = w.git.checkouts;
    CHECK(w.poll() == sys::kFetchOk);  // the ref did not move: skipped, not rebuilt
    CHECK(w.git.checkouts == checkouts);
    std::string c3 = w.git.push("main", 'c', "fixed");
    CHECK(w.poll() == sys::kFetchOk);
    CHECK(w.live() == c3);
}

TEST_CASE("cycle: a pinned commit, abbreviated, is deployed by its full id; a pin not on the ref is a temporary failure", "[cycle]") {
    World w;
    std::string c1 = w.git.push("main", 'a', "v1");
    w.git.push("main", 'b', "v2");
    w.git.fetched.insert(c1);  // fetched earlier, when main pointed at it
    w.config.repo.commit = c1.substr(0, 7);
    CHECK(w.poll() == sys::kFetchOk);
    CHECK(w.live() == c1);
    CHECK(w.poll() == sys::kFetchOk);  // up to date by the abbreviation
    CHECK(w.git.fetches == 0);
    w.config.repo.commit = std::string(40, 'f');
    CHECK(w.poll() == sys::kFetchTemporary);
    CHECK(w.logged("pinned commit ffffffffffffffffffffffffffffffffffffffff is not on refs/heads/main"));
    CHECK(w.live() == c1);
}

TEST_CASE("cycle: while another cycle holds the app's lock nothing is done", "[cycle]") {
    World w;
    w.git.push("main", 'a', "v1");
    REQUIRE(sys::mkdir_p(w.env.state_dir + "/web", 0755));
    auto held = sys::AppLock::try_acquire(w.env.state_dir + "/web/lock");
    REQUIRE(held);
    CHECK(w.poll() == sys::kFetchTemporary);
    CHECK(w.git.ls_remote_calls == 0);
    CHECK(w.logged("another deploy cycle of this app is running"));
    auto again = sys::AppLock::try_acquire(w.env.state_dir + "/web/lock");
    REQUIRE_FALSE(again);
    CHECK(sys::is_lock_held(again.code()));
}

TEST_CASE("cycle: an unreachable remote, or systemd, touches nothing", "[cycle]") {
    World w;
    std::string c1 = w.git.push("main", 'a', "v1");
    REQUIRE(w.poll() == sys::kFetchOk);
    w.git.push("main", 'b', "v2");
    SECTION("remote") {
        w.git.remote_down = {-ECOMM, "cannot reach https://git.example/web.git: connection refused"};
        CHECK(w.poll() == sys::kFetchTemporary);
        CHECK(w.logged("cannot reach https://git.example/web.git: connection refused; the running release is untouched"));
    }
    SECTION("systemd") {
        w.systemd_reachable = false;
        CHECK(w.poll() == sys::kFetchTemporary);
        CHECK(w.logged("release bbbbbbbbbbbb is ready and is switched to at the next poll"));
        w.systemd_reachable = true;
        CHECK(w.poll() == sys::kFetchOk);  // the ready release, without a second build
        CHECK(w.git.checkouts == 2);
    }
    if (w.git.remote_down.code) CHECK(w.live() == c1);
}

TEST_CASE("cycle: a local path that is not huddle's is refused and left alone", "[cycle]") {
    World w;
    w.git.push("main", 'a', "v1");
    REQUIRE(sys::mkdir_p(w.config.repo.local_path, 0755));
    CHECK(w.poll() == sys::kFetchRefused);
    struct stat st {};
    REQUIRE(::lstat(w.config.repo.local_path.c_str(), &st) == 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK(w.git.ls_remote_calls == 0);
}

TEST_CASE("cycle: the dry run says what a poll would do and changes nothing", "[cycle]") {
    World w;
    std::string c1 = w.git.push("main", 'a', "v1");
    auto v = sys::dry_run(w.config, w.env);
    REQUIRE(v);
    CHECK(describe(*v) == "would deploy aaaaaaaaaaaa (refs/heads/main)");
    CHECK_FALSE(exists(w.env.state_dir + "/web"));
    CHECK(w.git.fetches == 0);
    REQUIRE(w.poll() == sys::kFetchOk);
    v = sys::dry_run(w.config, w.env);
    REQUIRE(v);
    CHECK(describe(*v) == "up to date at aaaaaaaaaaaa (refs/heads/main)");
    w.git.remote_down = {-ECOMM, "cannot reach it"};
    v = sys::dry_run(w.config, w.env);
    REQUIRE_FALSE(v);
    CHECK(v.error().message == "cannot reach it");
    (void)c1;
}

TEST_CASE("cycle: rollback by hand switches back, restarts, and marks the commit left bad", "[cycle]") {
    World w;
    std::string c1 = w.git.push("main", 'a', "v1");
    REQUIRE(w.poll() == sys::kFetchOk);
    std::string c2 = w.git.push("main", 'b', "v2");
    REQUIRE(w.poll() == sys::kFetchOk);
    w.systemd.calls.clear();
    CHECK(sys::rollback(w.config, "", w.env) == sys::kFetchOk);
    CHECK(w.live() == c1);
    CHECK(w.systemd.calls == std::vector<std::string>{"restart " + w.unit()});
    CHECK(w.poll() == sys::kFetchOk);  // c2 is bad until main moves
    CHECK(w.live() == c1);
    CHECK(sys::rollback(w.config, c2.substr(0, 6), w.env) == sys::kFetchOk);  // by an abbreviation of a release on disk
    CHECK(w.live() == c2);
    CHECK(sys::rollback(w.config, std::string(40, 'e'), w.env) == sys::kFetchConfig);
}

TEST_CASE("cycle: a build cannot mark its release as its commit's exact tree", "[cycle]") {
    World w;
    // The build runs as the app's user, who owns the release directory then
    // and can set any user.* xattr on it, such as the one that marked a
    // verbatim release before the mark moved into state.json.
    w.config.deploy.build = {"python3 -c \"import os; os.setxattr('.', 'user.huddle.verbatim', b'1')\" && echo changed > app.txt"};
    w.git.push("main", 'a', "v1");
    REQUIRE(w.poll() == sys::kFetchOk);
    w.config.deploy.build.clear();  // the next release has no steps: it may share a verbatim one's files
    w.git.push("main", 'b', "v2");
    REQUIRE(w.poll() == sys::kFetchOk);
    CHECK(w.git.last_base.empty());  // not offered the built release as a base
    // Without steps a release is verbatim, and the next one shares its files.
    w.git.push("main", 'c', "v3");
    REQUIRE(w.poll() == sys::kFetchOk);
    CHECK(w.git.last_base == std::string(40, 'b'));
}
