// Each app's own user: the name huddle derives, the config's user winning,
// and the modes that keep one app's files from another.
#include "catch.hpp"
#include "core/appuser.hpp"
#include "core/config.hpp"
#include "core/plan.hpp"

using namespace huddle;

namespace {
const Property* find(const UnitPlan& u, const std::string& n) {
    for (const auto& p : u.properties)
        if (p.name == n) return &p;
    return nullptr;
}
}  // namespace

TEST_CASE("appuser: huddle-APP, or a hashed name when APP is not a plain lower-case name or too long", "[appuser]") {
    CHECK(default_app_user("web") == "huddle-web");
    CHECK(default_app_user("my_app-2") == "huddle-my_app-2");
    CHECK(default_app_user("a23456789012345678901234") == "huddle-a23456789012345678901234");  // 31: fits
    CHECK(default_app_user("a234567890123456789012345").size() == kMaxUserName);            // 32: hashed
    CHECK(default_app_user("a234567890123456789012345").rfind("huddle-a23456789012345-", 0) == 0);
    std::string upper = default_app_user("Web"), dotted = default_app_user("web.v2"), plus = default_app_user("web+v2");
    CHECK(upper.rfind("huddle-web-", 0) == 0);
    CHECK(dotted.rfind("huddle-web-v2-", 0) == 0);
    CHECK(plus.rfind("huddle-web-v2-", 0) == 0);
    CHECK(dotted != plus);  // the hash keeps apart what the mapping merges
    CHECK(upper != default_app_user("web"));
    std::string long1 = default_app_user(std::string(64, 'a')), long2 = default_app_user(std::string(63, 'a') + "b");
    CHECK(long1.size() == kMaxUserName);
    CHECK(long2.size() == kMaxUserName);
    CHECK(long1 != long2);
    for (const auto& n : {upper, dotted, plus, long1}) {
        INFO(n);
        CHECK(n.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") == std::string::npos);
    }
}

TEST_CASE("appuser: each app's fetch user is huddlefetch-APP, never an app's user", "[appuser]") {
    CHECK(default_fetch_user("web") == "huddlefetch-web");
    CHECK(default_fetch_user("Web").rfind("huddlefetch-web-", 0) == 0);
    CHECK(default_fetch_user(std::string(40, 'a')).size() == kMaxUserName);
    // An app named "fetch-web" runs as huddle-fetch-web, not as web's fetch user.
    CHECK(default_app_user("fetch-web") != default_fetch_user("web"));
    for (const char* app : {"web", "fetch", "a", "x.y"}) CHECK(default_fetch_user(app).rfind("huddle-", 0) == std::string::npos);
}

TEST_CASE("appuser: an app without user = runs as its own; user = wins; data 0700, state 0711", "[appuser][plan]") {
    auto own = load_config("shop", "shop.ini", Format::ini, "[repository]\nremote path = https://x.example/s.git\n[application]\nstart = ./run\n");
    auto named = load_config("shop", "shop.ini", Format::ini,
                             "[repository]\nremote path = https://x.example/s.git\n[application]\nstart = ./run\nuser = www-data\n");
    REQUIRE(own.config);
    REQUIRE(named.config);
    CHECK(own.config->app->user == "huddle-shop");
    CHECK(named.config->app->user == "www-data");
    PlanContext ctx;
    ctx.fetch_binary = "/usr/bin/huddle-fetch";
    ctx.machine_id = "0123456789abcdef0123456789abcdef";
    AppPlan p = plan_app(*own.config, ctx);
    int seen = 0;
    for (const auto& u : p.units) {
        INFO(u.name);
        const Property* m = find(u, "StateDirectoryMode");
        if (u.role == UnitRole::app) {
            REQUIRE(m);
            CHECK(m->signature == "u");
            CHECK(std::get<uint64_t>(m->value) == 0700);
            CHECK(std::get<std::string>(find(u, "User")->value) == "huddle-shop");
            ++seen;
        } else if (u.role == UnitRole::fetch) {
            REQUIRE(m);
            CHECK(std::get<uint64_t>(m->value) == 0711);
            ++seen;
        }
    }
    CHECK(seen == 2);
}

TEST_CASE("appuser: the app unit's sandbox by default, capabilities kept for root, none with sandbox = no", "[appuser][plan]") {
    auto plan_of = [](const std::string& extra) {
        auto r = load_config("shop", "shop.ini", Format::ini,
                             "[repository]\nremote path = https://x.example/s.git\n[application]\nstart = ./run\n" + extra);
        REQUIRE(r.config);
        PlanContext ctx;
        ctx.fetch_binary = "/usr/bin/huddle-fetch";
        ctx.machine_id = "0123456789abcdef0123456789abcdef";
        for (auto& u : plan_app(*r.config, ctx).units)
            if (u.role == UnitRole::app) return u;
        FAIL("no app unit");
        return UnitPlan{};
    };
    UnitPlan own = plan_of(""), root = plan_of("user = root\n"), off = plan_of("sandbox = no\n");
    REQUIRE(find(own, "ProtectSystem"));
    CHECK(std::get<std::string>(find(own, "ProtectSystem")->value) == "full");
    for (const char* name : {"NoNewPrivileges", "PrivateTmp", "ProtectKernelTunables", "ProtectControlGroups", "RestrictSUIDSGID"}) {
        INFO(name);
        REQUIRE(find(own, name));
        CHECK(std::get<bool>(find(own, name)->value));
    }
    REQUIRE(find(own, "CapabilityBoundingSet"));
    CHECK(std::get<uint64_t>(find(own, "CapabilityBoundingSet")->value) == 0);
    // Left open on purpose: devices (serial ports), address families (CAN), namespaces.
    for (const char* name : {"PrivateDevices", "RestrictAddressFamilies", "RestrictNamespaces", "ProtectHome"}) CHECK_FALSE(find(own, name));
    CHECK(find(root, "ProtectSystem"));
    CHECK_FALSE(find(root, "CapabilityBoundingSet"));
    for (const char* name : {"ProtectSystem", "NoNewPrivileges", "SystemCallFilter", "CapabilityBoundingSet"}) CHECK_FALSE(find(off, name));
}
