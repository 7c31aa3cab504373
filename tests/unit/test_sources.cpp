#include "catch.hpp"

#include "core/sources.hpp"

using namespace huddle;

TEST_CASE("sources: precedence, ignored names and conflicts") {
    std::vector<DirListing> dirs = {
        {"/etc/huddle", {{"web.toml"}, {"_off.json"}, {".hidden.ini"}, {"api.json~"}, {"db.ini.dpkg-old"}, {"x.swp"}, {"README"}, {"both.ini"}, {"both.json"}, {"gone.ini", true, true}}},
        {"/run/huddle", {{"api.ini"}}},
        {"/usr/lib/huddle", {{"web.json"}, {"gone.json"}, {"lib.ini"}, {"both.toml"}}},
    };
    Selection s = select_sources(dirs);
    std::vector<std::string> chosen;
    for (const auto& c : s.sources) chosen.push_back(c.path);
    CHECK(chosen == std::vector<std::string>{"/run/huddle/api.ini", "/usr/lib/huddle/lib.ini", "/etc/huddle/web.toml"});
    CHECK(s.broken_apps == std::vector<std::string>{"both"});
    CHECK(s.masked_apps == std::vector<std::string>{"gone"});
    CHECK(s.diags.count(Severity::error) == 2);  // one per file of "both"
}

TEST_CASE("sources: ignore rules") {
    CHECK(ignore_reason("web.ini").empty());
    CHECK_FALSE(ignore_reason("_web.ini").empty());
    CHECK_FALSE(ignore_reason(".web.ini").empty());
    CHECK_FALSE(ignore_reason("web.ini~").empty());
    CHECK_FALSE(ignore_reason("web.ini.swp").empty());
    CHECK_FALSE(ignore_reason("web.ini.dpkg-dist").empty());
    CHECK_FALSE(ignore_reason("web.yaml").empty());
    CHECK(app_name_of("my.app.toml") == "my.app");
    CHECK(format_of("a.toml") == Format::toml);
    CHECK_FALSE(format_of("a.TOML"));
}
