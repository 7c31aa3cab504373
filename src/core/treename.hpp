// Names of tree entries from a remote: a commit's tree is the remote's to
// write, and an entry named "..", ".git" or "a/b" would make a checkout
// write outside the release or into a repository's control files. Pure.
#pragma once
#include <string>
#include <string_view>

namespace huddle {

// "" when NAME is a plain file name; otherwise why not. Refused: "", ".",
// "..", ".git" in any case, and names holding '/' or NUL.
std::string tree_entry_name_problem(std::string_view name);

}  // namespace huddle
