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
    const std::string name = prefix();  // the parent's pid, in both
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
