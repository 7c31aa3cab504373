#include "catch.hpp"
#include <sys/wait.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "sys/slots.hpp"

using huddle::sys::DeploySlot;

namespace {
// A slot directory of its own per test case, removed at the end.
struct SlotDir {
    std::string base, path;
    SlotDir() {
        char tmpl[] = "/tmp/huddle-slots.XXXXXX";
        base = ::mkdtemp(tmpl);
        path = base + "/slots";
    }
    ~SlotDir() { std::system(("rm -rf '" + base + "'").c_str()); }
};
}  // namespace

TEST_CASE("deploy slots: N holders at most; a freed slot is taken by the next", "[slots]") {
    SlotDir dir;
    auto prefix = [&] { return dir.path; };
    auto a = DeploySlot::acquire(prefix(), 2, 0);
    REQUIRE(a);
    CHECK((*a)->waited() == 0);
    auto b = DeploySlot::acquire(prefix(), 2, 0);
    REQUIRE(b);
    CHECK((*a)->index() != (*b)->index());
    auto c = DeploySlot::acquire(prefix(), 2, 0);
    REQUIRE_FALSE(c);
    CHECK(c.error().code == -EBUSY);
    CHECK(c.error().message == "all 2 deploy slots stayed busy for 0");
    unsigned freed = (*a)->index();
    a->reset();  // frees the first slot
    auto d = DeploySlot::acquire(prefix(), 2, 0);
    REQUIRE(d);
    CHECK((*d)->index() == freed);
}

TEST_CASE("deploy slots: a holder that dies frees its slot; a waiter gets it", "[slots]") {
    SlotDir dir;
    const std::string name = dir.path;
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        auto s = DeploySlot::acquire(name, 1, 0);
        char ok = s ? 1 : 0;
        (void)!::write(ready[1], &ok, 1);
        ::usleep(300000);
        ::_exit(0);  // no destructor: the kernel frees it
    }
    char ok = 0;
    REQUIRE(::read(ready[0], &ok, 1) == 1);
    REQUIRE(ok == 1);
    auto s = DeploySlot::acquire(name, 1, 5 * huddle::kUsecPerSec);
    REQUIRE(s);
    CHECK((*s)->waited() > 0);
    int status = 0;
    ::waitpid(child, &status, 0);
    ::close(ready[0]);
    ::close(ready[1]);
}

TEST_CASE("deploy slots: root-only files in a 0700 directory; another user's directory is refused", "[slots]") {
    SlotDir dir;
    {
        auto s = DeploySlot::acquire(dir.path, 2, 0);
        REQUIRE(s);
        struct stat st {};
        REQUIRE(::lstat(dir.path.c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0700);
        REQUIRE(::lstat((dir.path + "/" + std::to_string((*s)->index())).c_str(), &st) == 0);
        CHECK(S_ISREG(st.st_mode));
        CHECK((st.st_mode & 07777) == 0600);
    }
    // Made more open (as systemd makes a RuntimeDirectory= 0755): closed again.
    REQUIRE(::chmod(dir.path.c_str(), 0755) == 0);
    REQUIRE(DeploySlot::acquire(dir.path, 1, 0));
    struct stat st {};
    REQUIRE(::lstat(dir.path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0700);
    // A symlink in the directory's place is not followed.
    SlotDir other;
    REQUIRE(::mkdir(other.path.c_str(), 0700) == 0);
    std::string link = dir.base + "/link";
    REQUIRE(::symlink(other.path.c_str(), link.c_str()) == 0);
    CHECK_FALSE(DeploySlot::acquire(link, 1, 0));
    if (::geteuid() == 0) {
        REQUIRE(::chown(other.path.c_str(), 65534, 65534) == 0);
        auto r = DeploySlot::acquire(other.path, 1, 0);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == -EPERM);
    }
}
