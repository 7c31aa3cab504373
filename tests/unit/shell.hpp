// A shell command's output for tests that build real repositories with git.
#pragma once
#include <cstdio>
#include <string>

#include "catch.hpp"

namespace huddle::test {

// CMD's standard output without its trailing newlines; the test fails when
// CMD cannot run or exits non-zero.
inline std::string sh_out(const std::string& cmd) {
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p);
    char buf[256];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    REQUIRE(::pclose(p) == 0);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

}  // namespace huddle::test
