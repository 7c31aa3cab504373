#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>

#include "parse_tree.hpp"

namespace huddle {
namespace {

Loc loc_of(const toml::node& n, const std::string& file) {
    const auto& b = n.source().begin;
    return {file, static_cast<int>(b.line), static_cast<int>(b.column)};
}

RawValue convert(const toml::node& n, const std::string& file, Diagnostics& diags, const std::string& key, int depth) {
    RawValue v;
    v.loc = loc_of(n, file);
    if (depth > kMaxNesting) {
        diags.error(v.loc, key, "nested too deeply; values are at most a list or table inside a section");
        return v;
    }
    if (auto s = n.as_string()) {
        v.str = s->get();
    } else if (auto i = n.as_integer()) {
        v.kind = RawValue::Kind::integer;
        v.integer = i->get();
    } else if (auto f = n.as_floating_point()) {
        v.kind = RawValue::Kind::floating;
        v.floating = f->get();
    } else if (auto b = n.as_boolean()) {
        v.kind = RawValue::Kind::boolean;
        v.boolean = b->get();
    } else if (auto a = n.as_array()) {
        v.kind = RawValue::Kind::list;
        for (const auto& item : *a) v.list.push_back(convert(item, file, diags, key, depth + 1));
    } else if (auto t = n.as_table()) {
        v.kind = RawValue::Kind::table;
        for (const auto& [k, child] : *t) {
            std::string ks(k.str());
            // Messages name a value "[section] key", whatever its depth.
            RawValue c = convert(child, file, diags, depth == 0 ? ks : depth == 1 ? "[" + key + "] " + ks : key, depth + 1);
            // A key's own position is where the key is written.
            if (k.source().begin.line) c.key_loc = {file, static_cast<int>(k.source().begin.line), static_cast<int>(k.source().begin.column)};
            v.table.emplace_back(ks, std::move(c));
        }
        // toml++ keeps a table's keys sorted by name; diagnostics ("set
        // twice, first at line N") need the order they are written in.
        std::stable_sort(v.table.begin(), v.table.end(), [](const auto& x, const auto& y) {
            return std::pair(x.second.key_loc.line, x.second.key_loc.col) < std::pair(y.second.key_loc.line, y.second.key_loc.col);
        });
    } else {
        diags.error(v.loc, key, "dates and times are not values huddle takes; write text in quotes (a duration as \"5min\")");
    }
    return v;
}

// toml++ 3.3.0's is_non_ascii_horizontal_whitespace() reaches
// TOML_UNREACHABLE (undefined behaviour) for most letters in U+00A1..U+0499,
// U+2C5E..U+3057 and U+FB26..U+FEFE: its table only covers the ranges that
// hold whitespace. This is that function's own test for "no answer".
bool tomlpp_cannot_classify(char32_t c) {
    if (c < 0xA0 || c > 0xFEFF) return false;
    const uint64_t child = (static_cast<uint64_t>(c) - 0xA0) / 0x3FA;
    if ((1ull << child) & 0x7FFFFFFFFFFFF75Eull) return false;
    if (c == 0xA0 || c == 0x3000 || c == 0xFEFF) return false;
    return child != 5 && child != 7;
}

// The code point of the UTF-8 sequence at T[I] (U+FFFD when malformed: toml++
// reports those itself).
char32_t code_point_at(const std::string& t, size_t i) {
    const auto b = [&](size_t k) { return k < t.size() ? static_cast<unsigned char>(t[k]) : 0u; };
    unsigned c = b(i);
    if (c < 0x80) return c;
    int more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : -1;
    if (more < 0) return 0xFFFD;
    char32_t cp = c & (0x3F >> more);
    for (int k = 1; k <= more; ++k) {
        if ((b(i + k) & 0xC0) != 0x80) return 0xFFFD;
        cp = (cp << 6) | (b(i + k) & 0x3F);
    }
    return cp;
}

// What keeps toml++ safe whatever it makes of the text: every code point it
// cannot classify is handed to it as a stand-in from plane 15's Private Use
// Area (above U+FEFF, which toml++ classifies without its table), and put
// back in keys and strings after parsing. The guard below
// (non_ascii_outside_strings) still gives the clearer message where it can;
// but it reads the text as TOML is written, and toml++ may read a value
// differently before its error (a bare value such as 9;1-2T0:["é"] is
// scanned to its end, quotes and all). A stand-in is four bytes: on a line
// with such a letter, columns after it move in toml++'s positions.
constexpr char32_t kStandIn = 0xF0000;
constexpr char32_t kStandInEnd = kStandIn + 3 * 0x3FA;  // one block of 0x3FA each for toml++'s
                                                        // unclassifiable blocks 0, 11 and 63
char32_t stand_in_for(char32_t c) {
    const uint64_t child = (static_cast<uint64_t>(c) - 0xA0) / 0x3FA;
    const char32_t block = child == 0 ? 0 : child == 11 ? 1 : 2;
    return kStandIn + block * 0x3FA + static_cast<char32_t>((c - 0xA0) % 0x3FA);
}
char32_t original_of(char32_t s) {
    const char32_t slot = s - kStandIn, block = slot / 0x3FA;
    const char32_t child = block == 0 ? 0 : block == 1 ? 11 : 63;
    return 0xA0 + child * 0x3FA + slot % 0x3FA;
}

std::string utf8(char32_t c) {
    std::string o;
    auto cont = [&](int shift) { o += static_cast<char>(0x80 | ((c >> shift) & 0x3F)); };
    if (c < 0x80) {
        o += static_cast<char>(c);
    } else if (c < 0x800) {
        o += static_cast<char>(0xC0 | (c >> 6));
        cont(0);
    } else if (c < 0x10000) {
        o += static_cast<char>(0xE0 | (c >> 12));
        cont(6);
        cont(0);
    } else {
        o += static_cast<char>(0xF0 | (c >> 18));
        cont(12);
        cont(6);
        cont(0);
    }
    return o;
}

// The well-formed (shortest) UTF-8 sequence at T[I] of a code point of two
// to four bytes: its length, or 0.
size_t sequence_at(const std::string& t, size_t i, char32_t& c) {
    unsigned char b = static_cast<unsigned char>(t[i]);
    size_t n = b >= 0xF0 && b < 0xF5 ? 4 : b >= 0xE0 && b < 0xF0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 0;
    if (!n || i + n > t.size()) return 0;
    c = code_point_at(t, i);
    if (c == 0xFFFD || (n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF))) return 0;
    return n;
}

bool is_stand_in(char32_t c) { return c >= kStandIn && c < kStandInEnd; }

// TEXT with each unclassifiable code point replaced by its stand-in; false
// when TEXT holds a stand-in of its own, raw or as a \U escape (it could not
// be told apart).
bool with_stand_ins(const std::string& text, std::string& out, bool& replaced) {
    out.clear();
    replaced = false;
    bool clash = false;
    for (size_t i = 0; i < text.size();) {
        char32_t c = 0;
        if (size_t n = sequence_at(text, i, c)) {
            if (tomlpp_cannot_classify(c)) {
                out += utf8(stand_in_for(c));
                replaced = true;
                i += n;
                continue;
            }
            if (is_stand_in(c)) clash = true;
        }
        if (text[i] == '\\' && i + 6 < text.size() && text[i + 1] == 'U' && text.compare(i + 2, 3, "000") == 0 &&
            (text[i + 5] == 'F' || text[i + 5] == 'f') && text[i + 6] == '0')
            clash = true;
        out += text[i++];
    }
    return !(replaced && clash);
}

std::string without_stand_ins(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size();) {
        char32_t c = 0;
        if (size_t n = sequence_at(s, i, c); n && is_stand_in(c)) {
            out += utf8(original_of(c));
            i += n;
        } else {
            out += s[i++];
        }
    }
    return out;
}

void restore(RawValue& v) {
    v.str = without_stand_ins(v.str);
    for (auto& item : v.list) restore(item);
    for (auto& [k, child] : v.table) {
        k = without_stand_ins(k);
        restore(child);
    }
}

// In a multi-line basic string toml++ asks "is this whitespace?" of the
// character after a backslash, and of the first one after a line-ending
// backslash's blank run. The first is an invalid escape anyway: its offset
// is returned (npos if none). The second is valid TOML: its offset goes to
// REWRITE, to be written as \uXXXX, which means the same.
size_t tomlpp_unclassifiable_after_backslash(const std::string& t, size_t i, size_t end, std::vector<size_t>& rewrite) {
    for (; i < end; ++i) {
        if (t[i] != '\\') continue;
        size_t j = i + 1;
        if (j < end && tomlpp_cannot_classify(code_point_at(t, j))) return j;
        if (j < end && (t[j] == ' ' || t[j] == '\t' || t[j] == '\r' || t[j] == '\n')) {
            while (j < end && (t[j] == ' ' || t[j] == '\t' || t[j] == '\r' || t[j] == '\n')) ++j;
            if (j < end && tomlpp_cannot_classify(code_point_at(t, j))) rewrite.push_back(j);
            i = j - 1;
        } else {
            i = j;  // an escape: the escaped character is not a backslash that starts another
        }
    }
    return std::string::npos;
}

// Whether a quote at T[I] starts a string for toml++: only where a key or a
// value starts. Elsewhere (as in the bare value 2't) it is one more
// character toml++ reads, classifying each one as it goes.
bool string_can_start(const std::string& t, size_t i) {
    while (i > 0 && (t[i - 1] == ' ' || t[i - 1] == '\t')) --i;
    return i == 0 || std::string_view("=[{,.\n\r").find(t[i - 1]) != std::string_view::npos ||
           (i == 3 && t.rfind("\xEF\xBB\xBF", 0) == 0);
}

// The offset of the first non-ASCII byte outside strings and comments, or
// npos. TOML allows none there (bare keys are ASCII), and toml++ 3.3.0 has
// undefined behaviour classifying some of them as whitespace. Sets
// *IN_STRING when the offset is an escape toml++ cannot classify in a
// multi-line basic string instead; fills REWRITE (see
// tomlpp_unclassifiable_after_backslash).
size_t non_ascii_outside_strings(const std::string& t, bool* in_string, std::vector<size_t>& rewrite) {
    *in_string = false;
    size_t i = t.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0, n = t.size();  // a byte order mark is allowed
    while (i < n) {
        char c = t[i];
        if (c == '#') {
            while (i < n && t[i] != '\n') ++i;
        } else if ((c == '"' || c == '\'') && string_can_start(t, i)) {
            bool multi = t.compare(i, 3, std::string(3, c)) == 0;
            i += multi ? 3 : 1;
            const size_t start = i;
            while (i < n) {
                if (c == '"' && t[i] == '\\') {
                    i += 2;
                } else if (multi ? t.compare(i, 3, std::string(3, c)) == 0 : t[i] == c) {
                    i += multi ? 3 : 1;
                    // A multi-line string may end in up to two more quotes.
                    while (multi && i < n && t[i] == c) ++i;
                    break;
                } else if (!multi && t[i] == '\n') {
                    break;  // unterminated: toml++ reports it
                } else {
                    ++i;
                }
            }
            // Terminated or not: toml++ reads it either way.
            if (multi && c == '"') {
                if (size_t bad = tomlpp_unclassifiable_after_backslash(t, start, std::min(i, n), rewrite); bad != std::string::npos) {
                    *in_string = true;
                    return bad;
                }
            }
        } else if (static_cast<unsigned char>(c) >= 0x80) {
            return i;
        } else {
            ++i;
        }
    }
    return std::string::npos;
}

}  // namespace

RawDoc parse_toml(const std::string& text, const std::string& file, Diagnostics& diags) {
    if (text.find('\0') != std::string::npos) {
        diags.error(loc_of_offset(text, text.find('\0'), file), "", "NUL byte in the file; config files are text");
        return {};
    }
    bool in_string = false;
    std::vector<size_t> rewrite;
    if (size_t bad = non_ascii_outside_strings(text, &in_string, rewrite); bad != std::string::npos) {
        if (in_string)
            diags.error(loc_of_offset(text, bad, file), "",
                        fmt::format("invalid TOML: an escape is a backslash and one of btnfr\"\\uU, not U+{:04X}; write a "
                                    "backslash as \\\\", static_cast<uint32_t>(code_point_at(text, bad))));
        else
            diags.error(loc_of_offset(text, bad, file), "",
                        "invalid TOML: a character other than ASCII outside a quoted string; put text, keys included, in quotes");
        return {};
    }
    // Same meaning, and toml++ never has to classify them. Only columns
    // later on those lines move, and only in its own error messages.
    std::string safe;
    if (!rewrite.empty()) {
        size_t from = 0;
        for (size_t at : rewrite) {
            size_t len = 1;
            while (at + len < text.size() && (static_cast<unsigned char>(text[at + len]) & 0xC0) == 0x80) ++len;
            safe.append(text, from, at - from);
            safe += fmt::format("\\u{:04X}", static_cast<uint32_t>(code_point_at(text, at)));
            from = at + len;
        }
        safe.append(text, from, std::string::npos);
    }
    std::string input;
    bool stood_in = false;
    if (!with_stand_ins(rewrite.empty() ? text : safe, input, stood_in)) {
        diags.error({file, 1, 0}, "",
                    fmt::format("the file holds characters of plane 15's Private Use Area (U+{:05X}..U+{:05X}) together with "
                                "letters such as U+00E4; huddle cannot read that mix in TOML; leave out the former",
                                static_cast<uint32_t>(kStandIn), static_cast<uint32_t>(kStandInEnd - 1)));
        return {};
    }
    try {
        toml::table tbl = toml::parse(input, file);
        RawValue root = convert(tbl, file, diags, "", 0);
        if (stood_in) restore(root);
        return doc_from_tree(std::move(root), file, diags);
    } catch (const toml::parse_error& e) {
        const auto& b = e.source().begin;
        diags.error({file, static_cast<int>(b.line), static_cast<int>(b.column)}, "",
                    "invalid TOML: " + (stood_in ? without_stand_ins(std::string(e.description())) : std::string(e.description())));
        return {};
    }
}

const char* format_name(Format f) {
    switch (f) {
    case Format::json: return "JSON";
    case Format::ini: return "INI";
    case Format::toml: return "TOML";
    }
    return "?";
}

RawDoc parse_any(Format f, const std::string& text, const std::string& file, Diagnostics& diags) {
    switch (f) {
    case Format::json: return parse_json(text, file, diags);
    case Format::ini: return parse_ini(text, file, diags);
    case Format::toml: return parse_toml(text, file, diags);
    }
    return {};
}

}  // namespace huddle
