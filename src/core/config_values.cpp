// The value readers: one key's value as text, a boolean, a duration, a
// number, a list, an absolute path, a command line or one of a set of words,
// each reporting what is wrong with the value it reads.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "cmdline.hpp"
#include "config_internal.hpp"

namespace huddle::config_detail {

int literal_columns(const std::string& lit, size_t off) {
    size_t decoded = 0;
    int cols = 1;  // the opening quote
    for (size_t i = 1; i + 1 < lit.size() && decoded < off;) {
        if (lit[i] == '\\' && i + 1 < lit.size()) {
            if (lit[i + 1] == 'u' && i + 5 < lit.size()) {
                unsigned cp = static_cast<unsigned>(std::stoul(lit.substr(i + 2, 4), nullptr, 16));
                decoded += cp < 0x80 ? 1 : cp < 0x800 ? 2 : (cp >= 0xd800 && cp < 0xdc00) ? 4 : (cp >= 0xdc00 && cp < 0xe000) ? 0 : 3;
                i += 6;
                cols += 6;
            } else {
                decoded += 1;
                i += 2;
                cols += 2;
            }
        } else {
            ++cols;
            unsigned char c = static_cast<unsigned char>(lit[i]);
            size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : 4;
            decoded += n;
            i += n;
        }
    }
    return cols;
}

std::optional<std::string> Interpreter::scalar_text(const Found& f) {
    const RawValue& v = f.entry->value;
    switch (v.kind) {
    case RawValue::Kind::string:
        if (v.str.size() > kMaxValueBytes) {
            error(f, fmt::format("is {} bytes long; a value may be at most {} bytes", v.str.size(), kMaxValueBytes));
            return std::nullopt;
        }
        return v.str;
    case RawValue::Kind::integer: return std::to_string(v.integer);
    case RawValue::Kind::floating: return fmt::format("{}", v.floating);
    case RawValue::Kind::boolean: error(f, "expects text, got a boolean"); return std::nullopt;
    case RawValue::Kind::list:
        if (v.untyped) {
            error(f, "expects one value, got several lines; put it on one line");
            return std::nullopt;
        }
        error(f, "expects one value, got a list");
        return std::nullopt;
    case RawValue::Kind::table: error(f, "expects one value, got a table"); return std::nullopt;
    }
    return std::nullopt;
}

std::optional<std::string> Interpreter::str(const char* section, const char* key) {
    const Found* f = get(section, key);
    if (!f) return std::nullopt;
    auto s = scalar_text(*f);
    if (!s) return std::nullopt;
    if (s->find('\0') != std::string::npos || s->find('\n') != std::string::npos || s->find('\r') != std::string::npos) {
        error(*f, "must not contain line breaks or NUL bytes");
        return std::nullopt;
    }
    return s;
}

std::optional<bool> Interpreter::boolean(const char* section, const char* key) {
    const Found* f = get(section, key);
    if (!f) return std::nullopt;
    const RawValue& v = f->entry->value;
    if (v.kind == RawValue::Kind::boolean) return v.boolean;
    if (v.kind == RawValue::Kind::string) {
        std::string s = normalize_key(v.str);
        if (s == "true" || s == "yes" || s == "on" || s == "1") return true;
        if (s == "false" || s == "no" || s == "off" || s == "0") return false;
    }
    if (v.kind == RawValue::Kind::integer && (v.integer == 0 || v.integer == 1)) return v.integer == 1;
    error(*f, "expects true or false (also yes/no, on/off, 1/0)");
    return std::nullopt;
}

std::optional<usec_t> Interpreter::duration(const char* section, const char* key) {
    const Found* f = get(section, key);
    if (!f) return std::nullopt;
    const RawValue& v = f->entry->value;
    TimespanResult r;
    if (v.kind == RawValue::Kind::integer)
        r = timespan_from_seconds(static_cast<double>(v.integer));
    else if (v.kind == RawValue::Kind::floating)
        r = timespan_from_seconds(v.floating);
    else if (v.kind == RawValue::Kind::string)
        r = parse_timespan(v.str);
    else if (v.kind == RawValue::Kind::list && v.untyped) {
        error(*f, "expects one value, got several lines (an indented line continues the value above it; remove the indentation)");
        return std::nullopt;
    } else {
        error(*f, "expects a duration: a number of seconds or a span such as \"90s\" or \"5min\"");
        return std::nullopt;
    }
    if (!r.usec) error(*f, "duration " + r.error);
    return r.usec;
}

std::optional<int64_t> Interpreter::integer(const char* section, const char* key, int64_t lo, int64_t hi) {
    const Found* f = get(section, key);
    if (!f) return std::nullopt;
    const RawValue& v = f->entry->value;
    std::optional<int64_t> n;
    if (v.kind == RawValue::Kind::integer) n = v.integer;
    if (v.kind == RawValue::Kind::string && !v.str.empty() && v.str.size() < 18 &&
        std::all_of(v.str.begin(), v.str.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
        n = std::stoll(v.str);
    if (!n || *n < lo || *n > hi) {
        error(*f, fmt::format("expects a whole number from {} to {}", lo, hi));
        return std::nullopt;
    }
    return n;
}

// A size as systemd writes one ("512M", "2G", "infinity"), or a number of
// bytes; at least LO.
std::optional<uint64_t> Interpreter::size(const char* section, const char* key, uint64_t lo) {
    const Found* f = get(section, key);
    if (!f) return std::nullopt;
    const RawValue& v = f->entry->value;
    SizeResult r;
    if (v.kind == RawValue::Kind::integer && v.integer >= 0)
        r.bytes = static_cast<uint64_t>(v.integer);
    else if (v.kind == RawValue::Kind::string)
        r = parse_size(v.str);
    else
        r.error = "expects a size: bytes with an optional K, M, G or T (\"512M\", \"2G\"), or infinity";
    if (!r.bytes) {
        error(*f, r.error);
        return std::nullopt;
    }
    if (*r.bytes < lo) {
        error(*f, "must be at least " + format_size(lo));
        return std::nullopt;
    }
    return r.bytes;
}

std::optional<std::vector<std::string>> Interpreter::list(const char* section, const char* key, bool comma_splits) {
    const Found* f = get(section, key);
    if (!f) return std::nullopt;
    const RawValue& v = f->entry->value;
    std::vector<std::string> out;
    auto add = [&](const std::string& s, bool untyped) {
        if (s.find('\0') != std::string::npos) {
            error(*f, "must not contain NUL bytes");
            return;
        }
        if (s.size() > kMaxValueBytes) {
            error(*f, fmt::format("has an item {} bytes long; a command may be at most {} bytes", s.size(), kMaxValueBytes));
            return;
        }
        // Huddle split INI script lists on commas; a JSON/TOML list is explicit.
        if (comma_splits && untyped) {
            size_t pos = 0;
            while (pos <= s.size()) {
                size_t c = s.find(',', pos);
                std::string item = s.substr(pos, c == std::string::npos ? std::string::npos : c - pos);
                item.erase(0, item.find_first_not_of(" \t"));
                item.erase(item.find_last_not_of(" \t") + 1);
                if (!item.empty()) out.push_back(item);
                if (c == std::string::npos) break;
                pos = c + 1;
            }
        } else if (!s.empty()) {
            out.push_back(s);
        }
    };
    if (v.kind == RawValue::Kind::string) {
        add(v.str, v.untyped);
    } else if (v.kind == RawValue::Kind::list) {
        for (const auto& item : v.list) {
            if (item.kind != RawValue::Kind::string) {
                diags_.error(item.loc, f->label, "list items must be text (command lines)");
                return std::nullopt;
            }
            add(item.str, item.untyped);
        }
    } else {
        error(*f, "expects a command line or a list of them");
        return std::nullopt;
    }
    return out;
}

std::optional<std::string> Interpreter::abs_path(const char* section, const char* key) {
    auto s = str(section, key);
    const Found* f = get(section, key);
    if (!s || !f) return std::nullopt;
    std::string p = *s;
    if (p.empty()) return std::nullopt;
    if (p[0] != '/') {
        std::string hint = (p.size() > 2 && p[1] == ':') ? " ('" + p + "' looks like a Windows path)" : "";
        error(*f, "must be an absolute path, starting with '/'" + hint);
        return std::nullopt;
    }
    for (size_t pos = 0; pos < p.size();) {
        size_t next = p.find('/', pos + 1);
        std::string comp = p.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
        if (comp == ".." || comp == ".") {
            error(*f, "must not contain '.' or '..' components; write the path it means");
            return std::nullopt;
        }
        if (next == std::string::npos) break;
        pos = next;
    }
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    // "//" collapses, as the kernel reads it.
    std::string clean;
    for (char c : p)
        if (!(c == '/' && !clean.empty() && clean.back() == '/')) clean += c;
    if (clean.back() == '\\') {
        error(*f, kBackslashEnd);
        return std::nullopt;
    }
    return clean;
}

std::optional<std::vector<std::string>> Interpreter::command(const char* section, const char* key) {
    const Found* f = get(section, key);
    if (!f) return std::nullopt;
    auto s = str(section, key);
    if (!s) return std::nullopt;
    SplitResult r = split_command(*s);
    if (!r.error.empty()) {
        Loc loc = f->entry->value.loc;
        // Point at the offending character: the value starts after its quote
        // in JSON and TOML.
        if (loc.col > 0 && r.error.rfind("is empty", 0) != 0) {
            const RawValue& v = f->entry->value;
            loc.col += !v.source.empty() ? literal_columns(v.source, r.error_offset) : static_cast<int>(r.error_offset) + (v.untyped ? 0 : 1);
        }
        std::string msg = r.argv.empty() && r.error.rfind("is empty", 0) == 0 ? "command " + r.error : r.error + " in the command line";
        if (r.error.find("quote") != std::string::npos) msg += "; close the quote, or escape it with a backslash";
        diags_.error(loc, f->label, msg);
        return std::nullopt;
    }
    if (r.argv[0].empty()) {
        error(*f, "the program name is empty ('' or \"\" comes first); write the program to run first");
        return std::nullopt;
    }
    return r.argv;
}

std::optional<std::string> Interpreter::one_of(const char* section, const char* key, std::initializer_list<const char*> allowed) {
    auto s = str(section, key);
    if (!s) return std::nullopt;
    std::string v = normalize_key(*s);
    std::replace(v.begin(), v.end(), ' ', '-');
    for (const char* a : allowed)
        if (v == a) return v;
    std::vector<std::string> opts(allowed.begin(), allowed.end());
    error(*get(section, key), fmt::format("'{}' is not one of: {}", *s, fmt::join(opts, ", ")));
    return std::nullopt;
}

}  // namespace huddle::config_detail
