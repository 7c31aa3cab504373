// [limits]: sizes as systemd writes them, the keys and their errors, the
// fetch unit's MemoryMax= and TasksMax=, and the deploy cycle refusing a
// push beyond the fetch or release limit as it refuses a failed build.
#include <sys/stat.h>

#include "catch.hpp"
#include "core/plan.hpp"
#include "core/size.hpp"
#include "fakes.hpp"

using namespace huddle;
using huddle::test::World;

namespace {
LoadResult ini(const std::string& text) { return load_config("app", "app.ini", Format::ini, text); }
const std::string kRepo = "[repository]\nremote path = https://git.example.org/app.git\n";
bool has_error(const LoadResult& r, const std::string& needle) {
    for (const auto& d : r.diags.items())
        if (d.message.find(needle) != std::string::npos) return true;
    return false;
}
const Property* prop(const UnitPlan& u, const std::string& n) {
    for (const auto& p : u.properties)
        if (p.name == n) return &p;
    return nullptr;
}
}  // namespace

TEST_CASE("size: bytes and K, M, G, T as powers of 1024, infinity; round trip", "[limits]") {
    CHECK(parse_size("0").bytes == 0u);
    CHECK(parse_size("4096").bytes == 4096u);
    CHECK(parse_size("4096B").bytes == 4096u);
    CHECK(parse_size("1K").bytes == 1024u);
    CHECK(parse_size("512M").bytes == 512ull << 20);
    CHECK(parse_size("2G").bytes == 2ull << 30);
    CHECK(parse_size("3T").bytes == 3ull << 40);
    CHECK(parse_size("2GB").bytes == 2ull << 30);
    CHECK(parse_size("infinity").bytes == kSizeInfinity);
    for (const char* bad : {"", "G", "1.5G", "1g", "1 G", "1X", "1GiB", "-1", "99999999999999999999", "20000000T"}) {
        INFO(bad);
        auto r = parse_size(bad);
        CHECK(!r.bytes);
        CHECK(!r.error.empty());
    }
    for (uint64_t n : std::vector<uint64_t>{0, 1000, 1024, 1536, 2ull << 30, 5ull << 40, kSizeInfinity}) {
        INFO(n);
        CHECK(parse_size(format_size(n)).bytes == n);
    }
    CHECK(format_size(2ull << 30) == "2G");
    CHECK(format_size(1536) == "1536");
}

TEST_CASE("limits: defaults, every key set, and clear errors", "[limits]") {
    auto d = ini(kRepo);
    REQUIRE(d.config);
    CHECK(d.config->limits.memory == 2ull << 30);
    CHECK(d.config->limits.tasks == 512u);
    CHECK(d.config->limits.fetch == 1ull << 30);
    CHECK(d.config->limits.release == 4ull << 30);
    auto r = ini(kRepo + "[limits]\nmemory = 768M\ntasks = 64\nfetch = 20M\nrelease = infinity\n");
    REQUIRE(r.config);
    CHECK(r.config->limits.memory == 768ull << 20);
    CHECK(r.config->limits.tasks == 64u);
    CHECK(r.config->limits.fetch == 20ull << 20);
    CHECK(r.config->limits.release == kSizeInfinity);
    auto inf = ini(kRepo + "[limits]\ntasks = infinity\nmemory = infinity\n");
    REQUIRE(inf.config);
    CHECK(inf.config->limits.tasks == kSizeInfinity);
    CHECK(inf.config->limits.memory == kSizeInfinity);
    CHECK(has_error(ini(kRepo + "[limits]\nmemory = 1.5G\n"), "'1.5G' has an unknown unit"));
    CHECK(has_error(ini(kRepo + "[limits]\nmemory = 10M\n"), "must be at least 64M"));
    CHECK(has_error(ini(kRepo + "[limits]\nfetch = 100K\n"), "must be at least 1M"));
    CHECK(has_error(ini(kRepo + "[limits]\ntasks = 4\n"), "expects a whole number from 16"));
    CHECK(has_error(ini(kRepo + "[limits]\nswap = 1G\n"), "unknown key"));
    auto j = load_config("app", "app.json", Format::json,
                         R"({"repository": {"remote path": "https://git.example.org/app.git"}, "limits": {"fetch": 5242880, "release": "1G"}})");
    REQUIRE(j.config);
    CHECK(j.config->limits.fetch == 5ull << 20);
    CHECK(j.config->limits.release == 1ull << 30);
}

TEST_CASE("limits: the fetch unit carries MemoryMax= and TasksMax=", "[limits][plan]") {
    auto r = ini(kRepo + "[application]\nstart = ./run\n[limits]\nmemory = 1G\ntasks = 100\n");
    REQUIRE(r.config);
    PlanContext ctx;
    ctx.fetch_binary = "/usr/bin/huddle-fetch";
    ctx.machine_id = "0123456789abcdef0123456789abcdef";
    AppPlan p = plan_app(*r.config, ctx);
    for (const auto& u : p.units) {
        INFO(u.name);
        if (u.role != UnitRole::fetch) {
            CHECK(!prop(u, "MemoryMax"));
            continue;
        }
        REQUIRE(prop(u, "MemoryMax"));
        CHECK(std::get<uint64_t>(prop(u, "MemoryMax")->value) == 1ull << 30);
        REQUIRE(prop(u, "TasksMax"));
        CHECK(std::get<uint64_t>(prop(u, "TasksMax")->value) == 100u);
    }
}

TEST_CASE("limits: a push beyond the fetch limit is refused, remembered, not fetched again; the next one deploys", "[limits][cycle]") {
    World w;
    w.config.limits.fetch = 10ull << 20;
    std::string c1 = w.git.push("main", 'a', "v1");
    REQUIRE(w.poll() == sys::kFetchOk);
    std::string c2 = w.git.push("main", 'b', "v2");
    w.git.pack_bytes[c2] = 11ull << 20;
    w.systemd.calls.clear();
    CHECK(w.poll() == sys::kFetchRejected);
    CHECK(w.git.last_fetch_max == 10ull << 20);
    CHECK(w.live() == c1);
    CHECK(w.systemd.calls.empty());
    CHECK(w.logged("release bbbbbbbbbbbb rejected (fetching refs/heads/main stopped: more than the limit)"));
    int fetches = w.git.fetches;
    CHECK(w.poll() == sys::kFetchOk);
    CHECK(w.git.fetches == fetches);
    std::string c3 = w.git.push("main", 'c', "v3");
    CHECK(w.poll() == sys::kFetchOk);
    CHECK(w.live() == c3);
}

TEST_CASE("limits: a tree beyond the release limit is refused with nothing left in releases/", "[limits][cycle]") {
    World w;
    w.config.limits.release = 1ull << 20;
    std::string c1 = w.git.push("main", 'a', "v1");
    REQUIRE(w.poll() == sys::kFetchOk);
    std::string c2 = w.git.push("main", 'b', "v2");
    w.git.tree_bytes[c2] = 2ull << 20;
    CHECK(w.poll() == sys::kFetchRejected);
    CHECK(w.live() == c1);
    struct stat st {};
    CHECK(::lstat((w.env.state_dir + "/web/releases/" + c2).c_str(), &st) < 0);
    CHECK(::lstat((w.env.state_dir + "/web/releases/" + c2 + ".tmp").c_str(), &st) < 0);
    CHECK(w.state_json().find("\"rejected\"") != std::string::npos);
}

TEST_CASE("limits: a build that writes past the release limit is refused; within it, deployed", "[limits][cycle]") {
    World w;
    w.config.limits.release = 1ull << 20;
    w.config.deploy.build = {"head -c 3000000 /dev/urandom > big"};
    std::string c1 = w.git.push("main", 'a', "v1");
    CHECK(w.poll() == sys::kFetchRejected);
    CHECK(w.live().empty());
    struct stat st {};
    CHECK(::lstat((w.env.state_dir + "/web/releases/" + c1).c_str(), &st) < 0);
    CHECK(::lstat((w.env.state_dir + "/web/releases/" + c1 + ".tmp").c_str(), &st) < 0);
    CHECK(w.state_json().find("limits release") != std::string::npos);
    w.config.deploy.build = {"head -c 100000 /dev/urandom > small"};
    std::string c2 = w.git.push("main", 'b', "v2");
    CHECK(w.poll() == sys::kFetchOk);
    CHECK(w.live() == c2);
}

TEST_CASE("limits: an unhealthy release rolled back is removed from releases/", "[limits][cycle]") {
    World w;
    std::string c1 = w.git.push("main", 'a', "v1");
    REQUIRE(w.poll() == sys::kFetchOk);
    std::string c2 = w.git.push("main", 'b', "v2");
    w.systemd.next_start.crash_after_checks = 2;
    REQUIRE(w.poll() == sys::kFetchRolledBack);
    CHECK(w.live() == c1);
    struct stat st {};
    CHECK(::lstat((w.env.state_dir + "/web/releases/" + c1).c_str(), &st) == 0);
    CHECK(::lstat((w.env.state_dir + "/web/releases/" + c2).c_str(), &st) < 0);
    CHECK(w.logged("removed the unhealthy release bbbbbbbbbbbb"));
}
