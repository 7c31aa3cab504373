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

// The offset of the first non-ASCII byte outside strings and comments, or
// npos. TOML allows none there (bare keys are ASCII), and toml++ 3.3.0 has
// undefined behaviour classifying some of them as whitespace.
size_t non_ascii_outside_strings(const std::string& t) {
    size_t i = t.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0, n = t.size();  // a byte order mark is allowed
    while (i < n) {
        char c = t[i];
        if (c == '#') {
            while (i < n && t[i] != '\n') ++i;
        } else if (c == '"' || c == '\'') {
            bool multi = t.compare(i, 3, std::string(3, c)) == 0;
            i += multi ? 3 : 1;
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
    if (size_t bad = non_ascii_outside_strings(text); bad != std::string::npos) {
        diags.error(loc_of_offset(text, bad, file), "",
                    "invalid TOML: a character other than ASCII outside a string; a key with other letters must be quoted");
        return {};
    }
    try {
        toml::table tbl = toml::parse(text, file);
        RawValue root = convert(tbl, file, diags, "", 0);
        return doc_from_tree(std::move(root), file, diags);
    } catch (const toml::parse_error& e) {
        const auto& b = e.source().begin;
        diags.error({file, static_cast<int>(b.line), static_cast<int>(b.column)}, "", "invalid TOML: " + std::string(e.description()));
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
