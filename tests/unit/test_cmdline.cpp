#include "catch.hpp"

#include "core/cmdline.hpp"

using namespace huddle;
using V = std::vector<std::string>;

TEST_CASE("cmdline: shell-like word splitting without a shell") {
    struct Row {
        const char* in;
        V out;
    };
    const Row rows[] = {
        {"python -m app", {"python", "-m", "app"}},
        {"  spaced   out  ", {"spaced", "out"}},
        {"echo 'a b' c", {"echo", "a b", "c"}},
        {"echo \"a b\" c", {"echo", "a b", "c"}},
        {"echo \"say \\\"hi\\\"\"", {"echo", "say \"hi\""}},
        {"echo 'it''s'", {"echo", "its"}},
        {"echo a\\ b", {"echo", "a b"}},
        {"echo '' x", {"echo", "", "x"}},
        {"echo \"\"", {"echo", ""}},
        {"echo '$HOME' \"$HOME\"", {"echo", "$HOME", "$HOME"}},
        {"sh -c 'echo hi > /tmp/x'", {"sh", "-c", "echo hi > /tmp/x"}},
        {"a\"b c\"d", {"ab cd"}},
        {"echo \"back\\\\slash\"", {"echo", "back\\slash"}},
        {"echo \"keep\\n\"", {"echo", "keep\\n"}},
        {"tab\tseparated", {"tab", "separated"}},
        {"100%", {"100%"}},
    };
    for (const auto& r : rows) {
        INFO(r.in);
        auto res = split_command(r.in);
        CHECK(res.error.empty());
        CHECK(res.argv == r.out);
    }
}

TEST_CASE("cmdline: errors name the problem and its offset") {
    struct Row {
        const char* in;
        const char* error;
        size_t offset;
    };
    const Row rows[] = {
        {"echo 'open", "unterminated single quote", 5},
        {"echo \"open", "unterminated double quote", 5},
        {"echo ok\\", "backslash at the end", 7},
        {"", "is empty", 0},
        {"   ", "is empty", 0},
    };
    for (const auto& r : rows) {
        INFO(r.in);
        auto res = split_command(r.in);
        CHECK_THAT(res.error, Catch::Contains(r.error));
        CHECK(res.error_offset == r.offset);
    }
}

TEST_CASE("cmdline: quoting for unit files reads back as the same words") {
    const V cases[] = {{"python", "-m", "app"}, {"echo", "a b"}, {"echo", "say \"hi\""}, {"echo", ""}, {"x", "back\\slash"}, {"echo", "50%"}};
    for (const auto& argv : cases) {
        std::string q = quote_exec_argv(argv);
        INFO(q);
        // systemd reads %% as %; the split here is the shell's, so undo that first.
        std::string unspec;
        for (size_t i = 0; i < q.size(); ++i) {
            unspec += q[i];
            if (q[i] == '%' && i + 1 < q.size() && q[i + 1] == '%') ++i;
        }
        CHECK(split_command(unspec).argv == argv);
    }
    CHECK(quote_exec_argv({"echo", "50%"}) == "echo \"50%%\"");
}
