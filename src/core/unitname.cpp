#include "unitname.hpp"

#include <fmt/format.h>

namespace huddle {

std::string unit_name_escape(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        bool valid = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '_' || c == '.';
        if (c == '/')
            out += '-';
        else if (!valid || (i == 0 && c == '.'))
            out += fmt::format("\\x{:02x}", c);
        else
            out += static_cast<char>(c);
    }
    return out;
}

std::string check_app_name(std::string_view name) {
    if (name.empty()) return "the app name (the file name without extension) is empty";
    if (name.size() > kMaxAppName)
        return fmt::format("the app name is {} characters long; rename the file to at most {} (it becomes unit and directory names)",
                           name.size(), kMaxAppName);
    // "-x" would be read as an option by huddle-fetch and huddlectl, and
    // "." or ".." would make /var/lib/huddle/APP point outside the app's own
    // directory (such files are hidden and skipped in a config directory).
    if (name[0] == '-' || name[0] == '.')
        return fmt::format("the app name (the file name without extension) must not start with '{}'; rename the file", name[0]);
    for (unsigned char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '+';
        if (!ok)
            return "the app name (the file name without extension) may hold only letters, digits, '.', '_', '-' and '+', "
                   "because it becomes unit and directory names; rename the file";
    }
    return "";
}

}  // namespace huddle
