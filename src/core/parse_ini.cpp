// INI as Python's configparser.ConfigParser() read it with its default
// settings, since that is what read every Huddle-era config: the same line
// classification (RawConfigParser._read), indentation rules, comment and
// delimiter rules. No C library reads that dialect (inih treats every
// indented line as a continuation and cuts values at " ;"), so this follows
// configparser's algorithm step by step; the differential test in
// tests/ini-differential.py holds it to configparser itself. [DEFAULT] and
// %-interpolation are applied afterwards (ini_defaults.cpp).
#include <cctype>
#include <cstdio>
#include <string_view>

#include "ini_defaults.hpp"
#include "raw.hpp"

namespace huddle {
namespace {

// Bytes of the whitespace code point at s[i] (as Python's str.isspace, which
// configparser's strip() and \s use), or 0. Control characters never get
// here: the reader refuses them first.
size_t space_at(std::string_view s, size_t i) {
    auto b = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
    if (b(0) == ' ' || b(0) == '\t') return 1;
    if (b(0) == 0xc2 && (b(1) == 0x85 || b(1) == 0xa0)) return 2;                    // U+0085, U+00A0
    if (b(0) == 0xe1 && b(1) == 0x9a && b(2) == 0x80) return 3;                      // U+1680
    if (b(0) == 0xe2 && b(1) == 0x80 && (b(2) <= 0x8a || b(2) == 0xa8 || b(2) == 0xa9 || b(2) == 0xaf)) return 3;  // U+2000-200A, 2028, 2029, 202F
    if (b(0) == 0xe2 && b(1) == 0x81 && b(2) == 0x9f) return 3;                      // U+205F
    if (b(0) == 0xe3 && b(1) == 0x80 && b(2) == 0x80) return 3;                      // U+3000
    return 0;
}

struct Span {
    size_t begin = 0, end = 0;  // byte offsets into the line
    size_t indent = 0;          // leading white space, in code points (Python counts characters)
};

// The line stripped as Python's str.strip() strips.
Span strip(std::string_view s) {
    Span sp;
    size_t i = 0;
    for (size_t n; i < s.size() && (n = space_at(s, i)) > 0; i += n) ++sp.indent;
    sp.begin = sp.end = i;
    for (size_t n; i < s.size(); i += n ? n : 1)
        if ((n = space_at(s, i)) == 0) sp.end = i + 1;
    // sp.end may sit inside a multi-byte character: move it to its end.
    while (sp.end < s.size() && (static_cast<unsigned char>(s[sp.end]) & 0xc0) == 0x80) ++sp.end;
    return sp;
}

std::string_view sub(std::string_view s, Span sp) { return s.substr(sp.begin, sp.end - sp.begin); }

// "[name]": a header indented by mistake, where configparser read a continued
// value (which may well start with '[', as in "[ -f x ] && make").
bool looks_like_header(std::string_view line) {
    if (line.size() < 3 || line[0] != '[' || line.back() != ']' || !std::isalpha(static_cast<unsigned char>(line[1]))) return false;
    for (char c : line.substr(1, line.size() - 2))
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != ' ' && c != '_' && c != '-') return false;
    return true;
}

class Reader {
public:
    Reader(const std::string& file, Diagnostics& diags) : file_(file), diags_(diags) {}
    void line(int lineno, std::string_view raw);
    RawDoc take() { return std::move(doc_); }

private:
    bool text_only(int lineno, std::string_view raw);
    void header(int lineno, std::string name);
    void option(int lineno, std::string_view raw, Span sp, size_t delim);
    void continuation(int lineno, Span sp, std::string_view value);
    void bad_line(int lineno, std::string_view raw, Span sp);
    RawValue& value() { return doc_.sections[section_].entries[option_].value; }

    const std::string& file_;
    Diagnostics& diags_;
    RawDoc doc_;
    long section_ = -1;       // index into doc_.sections; -1: no header yet
    long option_ = -1;        // the entry a continuation line would extend; -1: none
    size_t indent_level_ = 0;  // of the line that opened option_ (or the header)
    int blank_lines_ = 0;     // blank lines since the option's last line: kept only if it continues
    bool reported_no_section_ = false;
};

// Control characters have no place in a config (configparser read them as
// text; huddle refuses them on purpose: they would reach unit files and logs).
bool Reader::text_only(int lineno, std::string_view raw) {
    for (size_t i = 0; i < raw.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(raw[i]);
        if (c >= 0x20 || c == '\t') continue;
        char code[8];
        std::snprintf(code, sizeof code, "%02X", static_cast<unsigned>(c));
        diags_.error({file_, lineno, static_cast<int>(i) + 1}, "",
                     c == 0 ? std::string("NUL byte in the file; config files are text")
                            : std::string("control character U+00") + code + " in the file; config files are text");
        return false;
    }
    return true;
}

void Reader::line(int lineno, std::string_view raw) {
    if (!text_only(lineno, raw)) return;
    Span sp = strip(raw);
    std::string_view value = sub(raw, sp);
    // Full-line comments only: configparser's inline_comment_prefixes is None.
    if (!value.empty() && (value[0] == '#' || value[0] == ';')) return;
    if (value.empty()) {
        if (option_ >= 0) ++blank_lines_;  // empty_lines_in_values=True
        return;
    }
    if (option_ >= 0 && sp.indent > indent_level_) return continuation(lineno, sp, value);
    indent_level_ = sp.indent;
    // "\[(?P<header>.+)\]" matched at the start: up to the last ']'.
    size_t close = value.rfind(']');
    if (value[0] == '[' && close != std::string_view::npos && close >= 2) return header(lineno, std::string(value.substr(1, close - 1)));
    if (value[0] == '[') return bad_line(lineno, raw, sp);
    if (section_ < 0) {
        // configparser stops here (MissingSectionHeaderError): one report,
        // none after a broken line (a header, likely) that was reported.
        if (!reported_no_section_ && !diags_.has_errors())
            diags_.error({file_, lineno, static_cast<int>(sp.begin) + 1}, "", "key outside any section; put it under a [section] header such as [repository]");
        reported_no_section_ = true;
        return;
    }
    size_t delim = value.find_first_of("=:");
    if (delim == std::string_view::npos) return bad_line(lineno, raw, sp);
    option(lineno, raw, sp, delim);
}

void Reader::header(int lineno, std::string name) {
    option_ = -1;  // "so sections can't start with a continuation line"
    blank_lines_ = 0;
    bool defaults = name == kDefaultSection;
    if (defaults)
        for (size_t i = 0; i < doc_.sections.size(); ++i)
            if (doc_.sections[i].defaults) {
                section_ = static_cast<long>(i);  // [DEFAULT] may be opened again; it is one section
                return;
            }
    RawSection s{std::move(name), {file_, lineno, 1}, {}};
    s.defaults = defaults;
    doc_.sections.push_back(std::move(s));
    section_ = static_cast<long>(doc_.sections.size()) - 1;
}

void Reader::option(int lineno, std::string_view raw, Span sp, size_t delim) {
    std::string_view value = sub(raw, sp);
    std::string_view name = sub(value, strip(value.substr(0, delim)));
    if (name.empty()) {
        diags_.error({file_, lineno, static_cast<int>(sp.begin) + 1}, "", "no key before '" + std::string(1, value[delim]) + "'; write 'key = value'");
        option_ = -1;
        return;
    }
    std::string_view rest = value.substr(delim + 1);
    Span vs = strip(rest);
    RawEntry e;
    e.key = std::string(name);
    e.loc = {file_, lineno, static_cast<int>(sp.begin) + 1};
    e.value.str = std::string(sub(rest, vs));
    e.value.loc = e.value.str.empty() ? e.loc : Loc{file_, lineno, static_cast<int>(sp.begin + delim + 1 + vs.begin) + 1};
    e.value.untyped = true;
    auto& entries = doc_.sections[section_].entries;
    entries.push_back(std::move(e));
    option_ = static_cast<long>(entries.size()) - 1;
    blank_lines_ = 0;
}

// An indented line continues the open value: each line is one list item, the
// first line (even empty) included, so joining them with "\n" gives exactly
// what configparser's get() returned.
void Reader::continuation(int lineno, Span sp, std::string_view text) {
    RawValue& rv = value();
    if (looks_like_header(text)) {
        const RawEntry& e = doc_.sections[section_].entries[option_];
        diags_.notice({file_, lineno, static_cast<int>(sp.begin) + 1}, "",
                      "this indented line continues the value of '" + e.key + "' (line " + std::to_string(e.loc.line) +
                          "), as in Huddle's configparser: it is not a section header; unindent it to start a section");
    }
    if (rv.kind != RawValue::Kind::list) {
        RawValue first = rv;
        rv.kind = RawValue::Kind::list;
        rv.str.clear();
        rv.list = {first};
    }
    auto add = [&](std::string s, Loc loc) {
        RawValue item;
        item.str = std::move(s);
        item.loc = std::move(loc);
        item.untyped = true;
        rv.list.push_back(std::move(item));
    };
    for (; blank_lines_ > 0; --blank_lines_) add("", {file_, lineno, 1});
    add(std::string(text), {file_, lineno, static_cast<int>(sp.begin) + 1});
}

void Reader::bad_line(int lineno, std::string_view raw, Span sp) {
    std::string_view value = sub(raw, sp);
    Loc loc{file_, lineno, static_cast<int>(sp.begin) + 1};
    std::string shown(value.substr(0, 40));
    if (value.rfind("\xef\xbb\xbf", 0) == 0)
        diags_.error(loc, "", "the line starts with a byte order mark (U+FEFF, invisible in most editors); delete it");
    else if (value[0] == '[')
        diags_.error(loc, "", "section header without closing ']'");
    else if (sp.indent > 0 && option_ < 0)
        diags_.error(loc, "", "indented line with no value above it to continue, found '" + shown +
                                  "'; write 'key = value', or indent it under the key it belongs to");
    else
        diags_.error(loc, "", "expected 'key = value', 'key: value' or a [section] header, found '" + shown + "'");
    // configparser keeps going after such a line, and so does an open value.
}

}  // namespace

RawDoc parse_ini(const std::string& input, const std::string& file, Diagnostics& diags) {
    // A byte order mark is not part of the first line (configparser, reading
    // as UTF-8, refused such files; huddle reads them). Lines end at LF, CRLF
    // or a lone CR, as in Python's universal newlines.
    std::string_view text(input);
    if (text.rfind("\xef\xbb\xbf", 0) == 0) text.remove_prefix(3);
    Reader r(file, diags);
    int lineno = 0;
    for (size_t pos = 0; pos < text.size();) {
        size_t end = text.find_first_of("\r\n", pos);
        if (end == std::string_view::npos) end = text.size();
        r.line(++lineno, text.substr(pos, end - pos));
        pos = end + (text.compare(end, 2, "\r\n") == 0 ? 2 : 1);
    }
    RawDoc doc = r.take();
    if (!diags.has_errors()) apply_ini_defaults(doc, diags);
    return doc;
}

}  // namespace huddle
