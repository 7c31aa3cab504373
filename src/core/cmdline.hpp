// Command lines for `start` and `health command`: split like a POSIX shell
// splits words (quotes, backslash), and nothing else: no variables, globs,
// pipes or redirections. That is systemd's ExecStart model; `sh -c '...'` is
// there when a shell is wanted.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace huddle {

struct SplitResult {
    std::vector<std::string> argv;
    std::string error;  // non-empty: the line could not be split
    size_t error_offset = 0;
};

SplitResult split_command(std::string_view line);

// Quote argv for a unit file's ExecStart= so systemd reads back the same words.
std::string quote_exec_argv(const std::vector<std::string>& argv);

}  // namespace huddle
