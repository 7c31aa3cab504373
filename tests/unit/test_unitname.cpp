#include "catch.hpp"

#include <array>
#include <cstdio>
#include <memory>

#include "core/unitname.hpp"

using namespace huddle;

namespace {
// The real systemd-escape, when the machine has it, so the table below is
// checked against systemd itself and not only against our reading of it.
std::string systemd_escape(const std::string& s) {
    std::string cmd = "systemd-escape -- '";
    for (char c : s) cmd += c == '\'' ? std::string("'\\''") : std::string(1, c);
    cmd += "' 2>/dev/null";
    std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
    if (!p) return "";
    std::string out;
    std::array<char, 256> buf{};
    while (fgets(buf.data(), buf.size(), p.get())) out += buf.data();
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}
}  // namespace

TEST_CASE("unit names: escaping matches systemd-escape") {
    struct Row {
        const char* in;
        const char* out;
    };
    const Row rows[] = {
        {"web", "web"}, {"my-app", "my\\x2dapp"}, {"a b", "a\\x20b"}, {".hidden", "\\x2ehidden"}, {"x/y", "x-y"},
        {"caf\xc3\xa9", "caf\\xc3\\xa9"}, {"a\\b", "a\\x5cb"}, {"1.2", "1.2"}, {"A:b_c", "A:b_c"}, {"-lead", "\\x2dlead"},
        {"tab\tx", "tab\\x09x"}, {"@at", "\\x40at"}, {"%p", "\\x25p"}, {"a+b", "a\\x2bb"},
    };
    bool have_tool = !systemd_escape("x").empty();
    for (const auto& r : rows) {
        INFO(r.in);
        CHECK(unit_name_escape(r.in) == r.out);
        if (have_tool) CHECK(unit_name_escape(r.in) == systemd_escape(r.in));
    }
}

TEST_CASE("unit names: which app names are accepted") {
    for (const char* ok : {"web", "my-app", "app_2", "v1.2", "a+b", "A"}) {
        INFO(ok);
        CHECK(check_app_name(ok).empty());
    }
    for (const char* bad : {"", "a b", "caf\xc3\xa9", "a/b", "x$y", "semi;colon", "quote'", "-x", ".", "..", ".x"}) {
        INFO(bad);
        CHECK_FALSE(check_app_name(bad).empty());
    }
    CHECK(check_app_name(std::string(kMaxAppName, 'a')).empty());
    CHECK_THAT(check_app_name(std::string(kMaxAppName + 1, 'a')), Catch::Contains("at most"));
}
