#include "catch.hpp"

#include "core/keys.hpp"

using namespace huddle;

TEST_CASE("keys: space, '_' and '-' are one character; case does not matter") {
    struct Row {
        const char* in;
        const char* out;
    };
    const Row rows[] = {
        {"remote path", "remote path"}, {"remote_path", "remote path"}, {"remote-path", "remote path"}, {"Remote Path", "remote path"},
        {"REMOTE_PATH", "remote path"}, {"remote  path", "remote path"}, {" remote path ", "remote path"}, {"pre-pull", "pre pull"},
        {"pre_pull", "pre pull"}, {"minimum", "minimum"}, {"health_command", "health command"}, {"", ""},
    };
    for (const auto& r : rows) {
        INFO(r.in);
        CHECK(normalize_key(r.in) == r.out);
    }
}

TEST_CASE("keys: did-you-mean proposes close spellings only") {
    std::vector<std::string> keys = {"remote path", "branch", "tag", "local path", "minimum", "maximum"};
    CHECK(did_you_mean("remote pth", keys) == "remote path");
    CHECK(did_you_mean("minumum", keys) == "minimum");
    CHECK(did_you_mean("Local_Paht", keys) == "local path");
    CHECK(did_you_mean("brnach", keys) == "branch");
    CHECK(did_you_mean("completely unrelated", keys).empty());
    CHECK(did_you_mean("xyz", keys).empty());
}

TEST_CASE("keys: edit distance") {
    CHECK(edit_distance("", "") == 0);
    CHECK(edit_distance("abc", "abc") == 0);
    CHECK(edit_distance("abc", "abd") == 1);
    CHECK(edit_distance("kitten", "sitting") == 3);
    CHECK(edit_distance("", "abc") == 3);
}
