#include "core/escape.hpp"

#include <cstdio>

namespace huddle {

namespace {
// The length of the well-formed UTF-8 sequence at s[i], or 0.
size_t utf8_length(std::string_view s, size_t i) {
    auto u = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = u(i);
    size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((u(i + k) & 0xc0) != 0x80) return 0;
    if (n == 3 && ((c == 0xe0 && u(i + 1) < 0xa0) || (c == 0xed && u(i + 1) >= 0xa0))) return 0;  // overlong, surrogate
    if (n == 4 && ((c == 0xf0 && u(i + 1) < 0x90) || (c == 0xf4 && u(i + 1) >= 0x90))) return 0;  // overlong, past U+10FFFF
    if (n == 2 && c == 0xc2 && u(i + 1) < 0xa0) return 0;  // U+0080..U+009F: C1 controls (CSI is U+009B)
    return n;
}
}  // namespace

std::string escape_untrusted(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '\\') {
            out += "\\\\";
            ++i;
        } else if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
            ++i;
        } else if (size_t n = c >= 0x80 ? utf8_length(s, i) : 0) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            char buf[5];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
            ++i;
        }
    }
    return out;
}

}  // namespace huddle
