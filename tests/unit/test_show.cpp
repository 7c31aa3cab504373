#include "catch.hpp"

#include "core/show.hpp"

using namespace huddle;

namespace {
const Setting* setting(const std::vector<Setting>& all, const std::string& section, const std::string& key) {
    for (const auto& s : all)
        if (s.section == section && s.key == key) return &s;
    return nullptr;
}
}  // namespace

TEST_CASE("show: every setting with the line it came from, defaults marked") {
    auto r = load_config("web", "web.ini", Format::ini,
                         "[DEFAULT]\nbranch = prod\n[repository]\nremote path = https://x/y.git\n[timing]\n  minimum = 300\n"
                         "[application]\nexecutable = /usr/bin/app --port 80\n[deploy]\nbuild = make\n[scripts]\npost-pull = make install\n");
    REQUIRE(r.config);
    auto all = settings(*r.config, r.doc);
    const Setting* branch = setting(all, "repository", "branch");
    REQUIRE(branch);
    CHECK(branch->text == "prod");
    REQUIRE(branch->from.size() == 1);
    CHECK(branch->from[0].line == 2);  // inherited: where [DEFAULT] sets it
    const Setting* minimum = setting(all, "timing", "minimum");
    CHECK(minimum->text == "5min");
    CHECK(minimum->from[0].line == 6);
    const Setting* start = setting(all, "application", "start");
    CHECK(start->kind == Setting::Kind::argv);
    CHECK(start->items == std::vector<std::string>{"/usr/bin/app", "--port", "80"});
    CHECK(start->from[0].line == 8);  // Huddle's 'executable'
    const Setting* build = setting(all, "deploy", "build");
    CHECK(build->items == std::vector<std::string>{"make", "make install"});
    CHECK(build->from.size() == 2);  // [deploy] build and [scripts] post-pull
    const Setting* keep = setting(all, "deploy", "keep");
    CHECK(keep->number == 3);
    CHECK(keep->from.empty());
    CHECK(setting(all, "timing", "maximum")->kind == Setting::Kind::unset);
    CHECK_FALSE(setting(all, "watchdog", "port"));
}

TEST_CASE("show: entries as read, after interpolation, with what was written") {
    auto r = load_config("web", "web.ini", Format::ini, "[repository]\nremote path = https://x/my%%20app.git\n[deploy]\nbuild =\n  a\n\n  b\n");
    REQUIRE(r.config);
    auto read = read_entries(r.doc);
    REQUIRE(read.size() == 2);
    CHECK(read[0].text == "https://x/my%20app.git");
    CHECK(read[0].written == "https://x/my%%20app.git");
    CHECK(read[1].text == "\na\n\nb");  // configparser's value, exactly
    CHECK_FALSE(read[1].written);
}
