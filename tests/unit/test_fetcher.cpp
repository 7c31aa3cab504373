// The fetch process (sys/fetcher.hpp) against real repositories on disk:
// it talks to the remote as the fetch user, not as root, and what it wrote
// is root's again, without links, before root reads it.
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "catch.hpp"
#include "shell.hpp"
#include "sys/fetcher.hpp"
#include "sys/release.hpp"

using namespace huddle;
using huddle::sys::Status;

namespace {
using test::sh_out;

struct World {
    std::string dir, remote, repo;
    sys::UserIds nobody;
    std::string commit;
    World() {
        char t[] = "/tmp/huddle-fetcher.XXXXXX";
        REQUIRE(::mkdtemp(t));
        dir = t;
        REQUIRE(::chmod(dir.c_str(), 0755) == 0);  // the remote below is for anyone to read
        remote = dir + "/remote.git";
        repo = dir + "/repo";
        sh_out("git init -q --bare -b main " + remote + " && chmod -R a+rX " + remote);
        std::string git = "git -C " + remote + " ";
        std::string blob = sh_out("printf hi | " + git + "hash-object -w --stdin");
        std::string tree = sh_out("printf '100644 blob " + blob + "\\tfile\\n' | " + git + "mktree");
        commit = sh_out(git + "-c user.name=t -c user.email=t@example.com commit-tree " + tree + " -m t");
        sh_out(git + "update-ref refs/heads/main " + commit + " && chmod -R a+rX " + remote);
        struct passwd* pw = ::getpwnam("nobody");
        REQUIRE(pw);
        nobody = {pw->pw_uid, pw->pw_gid, "/", {pw->pw_gid}};
    }
    ~World() { std::system(("rm -rf '" + dir + "'").c_str()); }
    sys::SeparatedRepo open() {
        auto r = sys::GitRepo::open_or_init(repo);
        REQUIRE(r);
        REQUIRE(::chmod(repo.c_str(), 0700) == 0);
        return sys::SeparatedRepo(std::move(*r), repo, nobody);
    }
};

uid_t owner(const std::string& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st.st_uid;
}
}  // namespace

TEST_CASE("fetcher: ls-remote and fetch run as the fetch user; a remote only root can read is out of its reach", "[fetcher]") {
    if (::getuid() != 0) return;  // dropping to another user needs root; CI runs as root
    World w;
    sys::SeparatedRepo repo = w.open();
    std::string url = "file://" + w.remote;
    auto refs = repo.ls_remote(url, {});
    INFO((refs ? "" : refs.error().message));
    REQUIRE(refs);
    bool found = false;
    for (const auto& r : *refs) found = found || (r.name == "refs/heads/main" && r.oid == w.commit);
    CHECK(found);
    Status fetched = repo.fetch(url, "refs/heads/main", {}, UINT64_MAX);
    INFO((fetched ? "" : fetched.error().message));
    REQUIRE(fetched);
    CHECK(repo.has_commit(w.commit));
    // Root's again, and shut, once the fetch is over.
    CHECK(owner(w.repo) == 0);
    for (const char* sub : {"/objects", "/objects/pack", "/refs", "/refs/huddle/fetched"}) {
        INFO(sub);
        CHECK(owner(w.repo + sub) == 0);
    }
    struct stat st {};
    REQUIRE(::stat(w.repo.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0700);
    // Root could read this remote; the fetch user cannot. Run as root, the
    // poll would have gone through.
    REQUIRE(::chmod(w.remote.c_str(), 0700) == 0);
    auto denied = repo.ls_remote(url, {});
    CHECK_FALSE(denied);
    auto as_root = sys::GitRepo::detached()->ls_remote(url, {});
    CHECK(as_root);  // root itself still can
}

TEST_CASE("fetcher: the credential reaches the fetch user through an fd root opened, never by path", "[fetcher]") {
    if (::getuid() != 0) return;
    World w;
    sys::SeparatedRepo repo = w.open();
    std::string secret = w.dir + "/token";
    std::ofstream(secret) << "t0ken\n";
    REQUIRE(::chmod(secret.c_str(), 0600) == 0);
    // file:// asks for no credential; what matters is that the fetch user,
    // who cannot open the root-only file, is not stopped by it.
    sys::GitAuth auth{secret, "", "", ""};
    CHECK(repo.ls_remote("file://" + w.remote, auth));
}

TEST_CASE("fetcher: taking the repository back removes links and alternates the fetch user planted", "[fetcher][release]") {
    if (::getuid() != 0) return;
    World w;
    sys::SeparatedRepo repo = w.open();
    REQUIRE(repo.fetch("file://" + w.remote, "refs/heads/main", {}, UINT64_MAX));
    REQUIRE(sys::hand_over_repository(w.repo, w.nobody));
    CHECK(owner(w.repo + "/objects") == w.nobody.uid);
    std::string outside = w.dir + "/outside";
    std::ofstream(outside) << "root's";
    // What a fetch process that was taken over could leave for root to read.
    REQUIRE(::symlink(outside.c_str(), (w.repo + "/objects/pack/pack-evil.pack").c_str()) == 0);
    REQUIRE(::symlink("/", (w.repo + "/refs/heads/evil").c_str()) == 0);
    REQUIRE(::mkfifo((w.repo + "/objects/fifo").c_str(), 0644) == 0);
    REQUIRE((::mkdir((w.repo + "/objects/info").c_str(), 0755) == 0 || errno == EEXIST));
    std::ofstream(w.repo + "/objects/info/alternates") << "/var/lib/huddle/other/repo/objects\n";
    std::ofstream(w.repo + "/objects/info/commit-graph") << "a graph whose parents root would believe";
    REQUIRE(::mkdir((w.repo + "/objects/info/commit-graphs").c_str(), 0755) == 0);
    std::ofstream(w.repo + "/objects/info/commit-graphs/graph-1.graph") << "x";
    REQUIRE(::chmod((w.repo + "/objects/pack").c_str(), 0777) == 0);
    REQUIRE(sys::take_back_repository(w.repo));
    struct stat pack {};
    REQUIRE(::stat((w.repo + "/objects/pack").c_str(), &pack) == 0);
    CHECK((pack.st_mode & 022) == 0);  // root's alone to write again
    for (const char* gone : {"/objects/pack/pack-evil.pack", "/refs/heads/evil", "/objects/fifo", "/objects/info/alternates",
                             "/objects/info/commit-graph", "/objects/info/commit-graphs"}) {
        INFO(gone);
        struct stat st {};
        CHECK(::lstat((w.repo + gone).c_str(), &st) < 0);
    }
    CHECK(owner(outside) == 0);
    CHECK(owner(w.repo + "/objects") == 0);
    CHECK(repo.has_commit(w.commit));
}
