#include "catch.hpp"
#include "core/treename.hpp"

using namespace huddle;

TEST_CASE("tree entry names: only plain file names") {
    for (const char* ok : {"run", ".gitignore", ".github", "..x", "x..", "git", ".gitx", "a.git", "caf\xc3\xa9"}) CHECK(tree_entry_name_problem(ok).empty());
    for (const char* bad : {"", ".", "..", ".git", ".GIT", ".Git", "a/b", "../x", "../../../escaped", "/abs"}) CHECK_FALSE(tree_entry_name_problem(bad).empty());
    CHECK_FALSE(tree_entry_name_problem(std::string_view("a\0b", 3)).empty());
}
