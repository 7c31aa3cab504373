#include "core/treename.hpp"

#include <algorithm>
#include <cctype>

namespace huddle {

std::string tree_entry_name_problem(std::string_view name) {
    if (name.empty()) return "an empty name";
    if (name == "." || name == "..") return "a name that is a path to a directory";
    if (name.size() == 4 && std::equal(name.begin(), name.end(), ".git", [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; }))
        return "a name that is git's own directory";
    if (name.find('/') != std::string_view::npos) return "a name holding '/'";
    if (name.find('\0') != std::string_view::npos) return "a name holding a NUL byte";
    return "";
}

}  // namespace huddle
