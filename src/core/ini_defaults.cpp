#include "ini_defaults.hpp"

#include <fmt/format.h>

#include <map>
#include <set>

#include "config.hpp"
#include "keys.hpp"

namespace huddle {
namespace {

constexpr int kMaxDepth = 10;  // configparser's MAX_INTERPOLATION_DEPTH

// configparser's optionxform, str.lower(), for the scripts a key name is
// likely to be written in: ASCII, Latin-1, Latin Extended-A, Greek and
// Cyrillic (other letters keep their case; see huddle.conf(5)).
std::string lower(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : static_cast<char>(c));
            ++i;
            continue;
        }
        if ((c & 0xe0) != 0xc0 || i + 1 >= s.size()) {
            out.push_back(static_cast<char>(c));
            ++i;
            continue;
        }
        unsigned cp = ((c & 0x1fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3fu);
        if ((cp >= 0xc0 && cp <= 0xde && cp != 0xd7) || (cp >= 0x391 && cp <= 0x3ab && cp != 0x3a2) || (cp >= 0x410 && cp <= 0x42f))
            cp += 0x20;
        else if (cp >= 0x400 && cp <= 0x40f)
            cp += 0x50;
        else if (cp == 0x178)
            cp = 0xff;
        else if (cp >= 0x100 && cp <= 0x17f && cp != 0x130 && cp != 0x138 && cp != 0x149 && cp != 0x17f &&
                 ((cp >= 0x139 && cp <= 0x148) || cp >= 0x179 ? cp % 2 == 1 : cp % 2 == 0))
            cp += 1;
        out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
        i += 2;
    }
    return out;
}

// BasicInterpolation._interpolate_some, except that a '%' followed by
// neither '%' nor '(' is kept (configparser raised; Huddle crashed).
bool expand(const std::string& rest_in, const KeyLookup& lookup, int depth, Interpolated& out) {
    if (depth > kMaxDepth) {
        out.error = fmt::format("'%(name)s' references nest more than {} deep (does a key refer to itself?)", kMaxDepth);
        return false;
    }
    std::string_view rest(rest_in);
    while (!rest.empty()) {
        size_t p = rest.find('%');
        out.text.append(rest.substr(0, p));
        if (p == std::string_view::npos) return true;
        rest.remove_prefix(p);
        if (rest.size() >= 2 && rest[1] == '%') {
            out.text.push_back('%');
            rest.remove_prefix(2);
        } else if (rest.size() >= 2 && rest[1] == '(') {
            // "%\(([^)]+)\)s"
            size_t close = rest.find(')');
            if (close == std::string_view::npos || close == 2 || close + 1 >= rest.size() || rest[close + 1] != 's') {
                out.error = "'" + std::string(rest.substr(0, std::min<size_t>(rest.size(), 30))) +
                            "' is not a reference: write '%(name)s' for another key's value, or '%%' for a literal '%'";
                return false;
            }
            std::string name = lower(std::string(rest.substr(2, close - 2)));
            rest.remove_prefix(close + 2);
            const std::string* v = lookup(name);
            if (!v) {
                out.error = "'%(" + name + ")s' refers to no key '" + name + "' in this section or [DEFAULT]; define it, or write '%%' for a literal '%'";
                return false;
            }
            if (v->find('%') == std::string::npos)
                out.text += *v;
            else if (!expand(*v, lookup, depth + 1, out))
                return false;
        } else {
            out.kept_percent = true;
            out.text.push_back('%');
            rest.remove_prefix(1);
        }
    }
    return true;
}

// A value as configparser's get() returned it: lines joined by "\n".
std::string joined(const RawValue& v) {
    if (v.kind != RawValue::Kind::list) return v.str;
    std::string s;
    for (size_t i = 0; i < v.list.size(); ++i) s += (i ? "\n" : "") + v.list[i].str;
    return s;
}

// Puts TEXT back as the value's lines, keeping each line's position when the
// count of lines did not change.
void set_joined(RawValue& v, const std::string& text) {
    std::vector<std::string> lines;
    for (size_t pos = 0;;) {
        size_t nl = text.find('\n', pos);
        lines.push_back(text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos));
        if (nl == std::string::npos) break;
        pos = nl + 1;
    }
    if (lines.size() == 1) {
        Loc loc = v.kind == RawValue::Kind::list && !v.list.empty() ? v.list[0].loc : v.loc;
        v.kind = RawValue::Kind::string;
        v.list.clear();
        v.str = lines[0];
        v.loc = loc;
        return;
    }
    std::vector<RawValue> items;
    for (size_t i = 0; i < lines.size(); ++i) {
        RawValue item;
        item.str = lines[i];
        item.untyped = true;
        item.loc = v.kind == RawValue::Kind::list && v.list.size() == lines.size() ? v.list[i].loc : v.loc;
        items.push_back(std::move(item));
    }
    v.kind = RawValue::Kind::list;
    v.str.clear();
    v.list = std::move(items);
}

// The keys huddle reads in a section ("" when it reads none, as [test]).
const std::vector<std::string>* schema_keys(const std::string& section) {
    static const auto known = known_keys();
    for (const auto& [name, keys] : known)
        if (normalize_key(name) == normalize_key(section)) return &keys;
    return nullptr;
}

bool knows(const std::vector<std::string>* keys, const std::string& key) {
    if (!keys) return false;
    for (const auto& k : *keys)
        if (normalize_key(k) == normalize_key(key)) return true;
    return false;
}

std::string shorten(const std::string& s) {
    std::string one = s.substr(0, s.find('\n'));
    if (one.size() <= 60 && one.size() == s.size()) return one;
    size_t n = std::min<size_t>(one.size(), 60);
    while (n > 0 && n < one.size() && (static_cast<unsigned char>(one[n]) & 0xc0) == 0x80) --n;
    return one.substr(0, n) + "...";
}

void inherit(RawSection& sec, const RawSection& defaults) {
    const auto* keys = schema_keys(sec.name);
    for (const auto& d : defaults.entries) {
        if (!knows(keys, d.key)) continue;
        bool set = false;
        for (const auto& e : sec.entries) set = set || normalize_key(e.key) == normalize_key(d.key);
        if (set) continue;
        RawEntry copy = d;
        copy.inherited = true;
        sec.entries.push_back(std::move(copy));
    }
}

void interpolate_section(RawSection& sec, const RawSection* defaults, std::set<std::string>& referenced, Diagnostics& diags) {
    const auto* keys = schema_keys(sec.name);
    // ChainMap(section, DEFAULT) of raw values, as configparser's _unify_values.
    std::map<std::string, std::string> raw;
    for (const auto& e : sec.entries) raw.emplace(lower(e.key), joined(e.value));
    if (defaults)
        for (const auto& e : defaults->entries) raw.emplace(lower(e.key), joined(e.value));
    KeyLookup lookup = [&](const std::string& name) -> const std::string* {
        referenced.insert(name);
        auto it = raw.find(name);
        return it == raw.end() ? nullptr : &it->second;
    };
    for (auto& e : sec.entries) {
        if (!knows(keys, e.key)) continue;  // reported as unknown by the interpreter
        std::string before = joined(e.value);
        if (before.find('%') == std::string::npos) continue;
        Interpolated r = interpolate(before, lookup);
        std::string label = "[" + sec.name + "] " + e.key;
        if (!r.error.empty()) {
            diags.error(e.value.loc, label, r.error);
            continue;
        }
        if (r.kept_percent)
            diags.notice(e.value.loc, label,
                         "a '%' not followed by '%' or '(' is kept as written; Huddle's configparser refused this value (write '%%' for a literal '%')");
        if (r.text != before) {
            diags.notice(e.value.loc, label, "read as '" + shorten(r.text) + "' ('%%' means '%' and '%(name)s' the value of key 'name', as Huddle's configparser read them)");
            e.written = before;
            set_joined(e.value, r.text);
        }
    }
}

}  // namespace

Interpolated interpolate(const std::string& value, const KeyLookup& lookup) {
    Interpolated out;
    if (!expand(value, lookup, 1, out)) out.text.clear();
    return out;
}

void apply_ini_defaults(RawDoc& doc, Diagnostics& diags) {
    const RawSection* defaults = nullptr;
    for (const auto& s : doc.sections)
        if (s.defaults) defaults = &s;
    if (defaults) {
        // Two spellings of one key in [DEFAULT] would be inherited twice.
        std::map<std::string, int> first;
        for (const auto& e : defaults->entries)
            if (auto [it, fresh] = first.emplace(normalize_key(e.key), e.loc.line); !fresh)
                diags.error(e.loc, "[DEFAULT] " + e.key, fmt::format("set twice (first at line {}); keep one", it->second));
        for (auto& s : doc.sections)
            if (!s.defaults) inherit(s, *defaults);
    }
    std::set<std::string> referenced;
    for (auto& s : doc.sections)
        if (!s.defaults) interpolate_section(s, defaults, referenced, diags);
    if (!defaults) return;
    for (const auto& e : defaults->entries) {
        bool known_somewhere = false;
        for (const auto& [name, keys] : known_keys()) known_somewhere = known_somewhere || knows(&keys, e.key);
        if (!known_somewhere && !referenced.count(lower(e.key)))
            diags.notice(e.loc, "[DEFAULT] " + e.key, "ignored: no section has this key, and no '%(" + lower(e.key) + ")s' refers to it");
    }
}

}  // namespace huddle
