#include "catch.hpp"
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "sys/slots.hpp"

using huddle::sys::DeploySlot;

namespace {
// Abstract names are shared by every process in the network namespace: one
// of its own per test run.
std::string prefix() { return "huddle-test/slots-" + std::to_string(::getpid()); }
}  // namespace

TEST_CASE("deploy slots: N holders at most; a freed slot is taken by the next", "[slots]") {
    std::string err;
    bool waited = true;
    auto a = DeploySlot::acquire(prefix(), 2, 0, &waited, err);
    REQUIRE(a);
    CHECK_FALSE(waited);
    auto b = DeploySlot::acquire(prefix(), 2, 0, &waited, err);
    REQUIRE(b);
    CHECK(a->index() != b->index());
    auto c = DeploySlot::acquire(prefix(), 2, 0, &waited, err);
    CHECK_FALSE(c);
    CHECK(waited);
    CHECK(err == "all 2 deploy slots stayed busy for 0");
    unsigned freed = a->index();
    a.reset();
    c = DeploySlot::acquire(prefix(), 2, 0, &waited, err);
    REQUIRE(c);
    CHECK(c->index() == freed);
}

TEST_CASE("deploy slots: a holder that dies frees its slot; a waiter gets it", "[slots]") {
    const std::string name = prefix();  // the parent's pid, in both
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        std::string e;
        auto s = DeploySlot::acquire(name, 1, 0, nullptr, e);
        char ok = s ? 1 : 0;
        (void)!::write(ready[1], &ok, 1);
        ::usleep(300000);
        ::_exit(0);  // no destructor: the kernel frees it
    }
    char ok = 0;
    REQUIRE(::read(ready[0], &ok, 1) == 1);
    REQUIRE(ok == 1);
    std::string err;
    bool waited = false;
    auto s = DeploySlot::acquire(name, 1, 5 * huddle::kUsecPerSec, &waited, err);
    CHECK(s);
    CHECK(waited);
    int status = 0;
    ::waitpid(child, &status, 0);
    ::close(ready[0]);
    ::close(ready[1]);
}
