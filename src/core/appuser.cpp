#include "appuser.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "fnv.hpp"

namespace huddle {

namespace {
std::string user_name(const char* prefix, const std::string& app) {
    std::string name = prefix;
    bool changed = false;
    for (char c : app) {
        if (c >= 'A' && c <= 'Z') {
            name += static_cast<char>(c - 'A' + 'a');
            changed = true;
        } else if (c == '.' || c == '+') {
            name += '-';
            changed = true;
        } else {
            name += c;
        }
    }
    if (!changed && name.size() <= kMaxUserName) return name;
    Fnv1a h;
    h.add(app);
    std::string suffix = fmt::format("-{:08x}", static_cast<uint32_t>(h.value() ^ (h.value() >> 32)));
    name.resize(std::min(name.size(), kMaxUserName - suffix.size()));
    return name + suffix;
}
}  // namespace

std::string default_app_user(const std::string& app) { return user_name("huddle-", app); }
std::string default_fetch_user(const std::string& app) { return user_name("huddlefetch-", app); }

}  // namespace huddle
