// INI through inih. inih reports neither line numbers (INI_HANDLER_LINENO is
// off in Debian's build) nor lines longer than 200 bytes, so we feed it line
// by line through ini_parse_stream: the reader knows the current line, and a
// long line's value is swapped for a short token and put back in the handler.
#include <ini.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "raw.hpp"

namespace huddle {
namespace {

constexpr size_t kInihLine = 200;    // INI_MAX_LINE of the packaged library
constexpr char kToken = '\x01';

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
    return s;
}

// Whether inih takes a line (trimmed: LINE; as written: RAW). The lines it
// refuses are reported after parsing, each with the reason.
bool inih_accepts(std::string_view raw, std::string_view line) {
    if (!line.empty() && line[0] == '[' && raw[0] == '[') return line.find(']') != std::string_view::npos;  // '=' or not
    return line.empty() || line[0] == '#' || line[0] == ';' || line.find_first_of("=:") != std::string_view::npos ||
           // an indented line continues the previous value
           raw[0] == ' ' || raw[0] == '\t' || line.find('\0') != std::string_view::npos;
}

// "[name]" indented: a header moved right by mistake, not a continued value
// (which may well start with '[', as in "[ -f x ] && make").
bool indented_header(std::string_view raw, std::string_view line) {
    if (raw.empty() || (raw[0] != ' ' && raw[0] != '\t') || line.size() < 3 || line[0] != '[' || line.back() != ']' ||
        !std::isalpha(static_cast<unsigned char>(line[1])))
        return false;
    return std::all_of(line.begin() + 1, line.end() - 1,
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '_' || c == '-'; });
}

// A line inih reads as a section header.
bool header_line(std::string_view raw, std::string_view line) {
    return !line.empty() && line[0] == '[' && line.find(']') != std::string_view::npos &&
           ((raw[0] != ' ' && raw[0] != '\t') || indented_header(raw, line));
}

struct State {
    const std::string* text;
    const std::string* file;
    Diagnostics* diags;
    size_t pos = 0;
    int lineno = 0;
    std::string current;       // the physical line now being parsed
    std::vector<std::string> long_values;
    std::vector<std::string> section_names;  // headers inih cannot hold, passed as kToken + index
    RawDoc doc;
    std::string last_section;  // as inih passes it
    bool in_section = false;
    bool bad_seen = false;  // a line already reported: keys after it may have lost their section
    bool new_header = false;  // a header since the last key, maybe repeating the section's name
};

char* reader(char* str, int num, void* stream) {
    auto* st = static_cast<State*>(stream);
    if (st->pos >= st->text->size()) return nullptr;
    size_t end = st->text->find('\n', st->pos);
    size_t next = end == std::string::npos ? st->text->size() : end + 1;
    st->current.assign(*st->text, st->pos, next - st->pos);
    st->pos = next;
    st->lineno++;
    std::string line = st->current;
    if (!inih_accepts(line, trim(line))) st->bad_seen = true;
    // Control characters have no place in a config, and one of them marks
    // the values carried beside inih (kToken).
    size_t ctl = std::string::npos;
    for (size_t i = 0; i < line.size() && ctl == std::string::npos; ++i) {
        unsigned char c = static_cast<unsigned char>(line[i]);
        if (c > 0 && c < 0x20 && c != '\t' && c != '\n' && c != '\r') ctl = i;
    }
    if (line.find('\0') != std::string::npos) {
        st->bad_seen = true;
        st->diags->error({*st->file, st->lineno, static_cast<int>(line.find('\0')) + 1}, "",
                         "NUL byte in the file; config files are text");
        line = "\n";
    } else if (ctl != std::string::npos) {
        st->bad_seen = true;
        char code[8];
        std::snprintf(code, sizeof code, "%02X", static_cast<unsigned>(static_cast<unsigned char>(line[ctl])));
        st->diags->error({*st->file, st->lineno, static_cast<int>(ctl) + 1}, "",
                         std::string("control character U+00") + code + " in the file; config files are text");
        line = "\n";
    } else {
        // inih would cut values at an inline " ;" (Huddle's configparser
        // never did) and cannot hold lines over 200 bytes: it only sees the
        // structure, and every value travels beside it as a short token.
        std::string_view body = trim(line);
        size_t lead = line.find_first_not_of(" \t");
        bool comment_or_blank = body.empty() || body[0] == '#' || body[0] == ';';
        bool section = !body.empty() && body[0] == '[' && lead == 0;
        size_t sep = body.find_first_of("=:");
        if (comment_or_blank) {
            line = "\n";
        } else if (section || indented_header(line, body)) {
            if (!section) {
                st->diags->error({*st->file, st->lineno, static_cast<int>(lead) + 1}, "",
                                 "a section header must start at the beginning of the line (an indented line continues the value above it)");
                st->bad_seen = true;  // read as the header it was meant to be
            }
            if (size_t close = body.find(']'); close == std::string_view::npos) {
                line = "[\n";  // inih refuses it too; reported after parsing
            } else {
                // Every name travels beside inih, which keeps 49 bytes of one
                // and ends it at an inline " ;" (configparser did neither);
                // what follows the ']' is ignored by both.
                st->section_names.emplace_back(body.substr(1, close - 1));
                line = std::string("[") + kToken + std::to_string(st->section_names.size() - 1) + "]\n";
            }
        } else if (lead > 0) {
            // An indented line continues the previous value: all of it is text.
            st->long_values.push_back(std::string(body));
            line = line.substr(0, lead) + kToken + std::to_string(st->long_values.size() - 1) + "\n";
        } else if (sep != std::string::npos && sep <= kInihLine / 2) {
            st->long_values.push_back(std::string(trim(body.substr(sep + 1))));
            line = std::string(body.substr(0, sep + 1)) + kToken + std::to_string(st->long_values.size() - 1) + "\n";
        } else if (line.size() >= static_cast<size_t>(num) - 1) {
            st->diags->error({*st->file, st->lineno, 1}, "", "line too long to be a key; put the value after 'key =' on the same line");
            st->bad_seen = true;
            line = "\n";
        }
    }
    if (line.size() + 1 > static_cast<size_t>(num)) {
        // Every branch above hands inih a short line; this keeps its buffer safe if one ever does not.
        st->diags->error({*st->file, st->lineno, 1}, "", "line too long to read; split it");
        st->bad_seen = true;
        line = "\n";
    }
    if (header_line(line, trim(line))) st->new_header = true;
    std::memcpy(str, line.c_str(), line.size() + 1);
    return str;
}

// The value behind a token of the reader ("\x01" + index into STORE), or
// TEXT itself.
std::string untoken(const char* text, const std::vector<std::string>& store) {
    if (text[0] != kToken) return text;
    // The reader refuses control characters, so this is its token.
    size_t i = 0;
    for (size_t k = 1; text[k] >= '0' && text[k] <= '9'; ++k) i = i * 10 + static_cast<size_t>(text[k] - '0');
    return i < store.size() ? store[i] : std::string();
}

int handler(void* user, const char* section_token, const char* name, const char* value) {
    auto* st = static_cast<State*>(user);
    const std::string section = untoken(section_token, st->section_names);
    std::string v = untoken(value, st->long_values);
    Loc key_loc{*st->file, st->lineno, 1};
    size_t kpos = st->current.find(name);
    if (kpos != std::string::npos) key_loc.col = static_cast<int>(kpos) + 1;
    Loc val_loc = key_loc;
    if (!v.empty()) {
        size_t vpos = st->current.find(v.substr(0, 16), kpos == std::string::npos ? 0 : kpos + std::strlen(name));
        if (vpos != std::string::npos) val_loc.col = static_cast<int>(vpos) + 1;
    }
    bool continuation = !st->current.empty() && (st->current[0] == ' ' || st->current[0] == '\t');

    if (!st->in_section || st->last_section != section || st->new_header) {
        if (section.empty()) {
            // After a broken line (a header, likely) that was reported, this is no news.
            if (!st->bad_seen) st->diags->error(key_loc, name, "key outside any section; put it under a [section] header such as [repository]");
            return 1;
        }
        // inih does not report section headers; find this one's line by
        // scanning back (the header is the nearest preceding '[' line).
        st->doc.sections.push_back({section, {*st->file, 0, 1}, {}});
        st->last_section = section;
        st->in_section = true;
        st->new_header = false;
    }
    auto& sec = st->doc.sections.back();
    if (continuation && !sec.entries.empty() && sec.entries.back().key == name) {
        // A value continued on an indented line: each line is one list item.
        RawValue& rv = sec.entries.back().value;
        if (rv.kind != RawValue::Kind::list) {
            RawValue first = rv;
            rv.kind = RawValue::Kind::list;
            rv.list.clear();
            if (!first.str.empty()) rv.list.push_back(first);
            rv.str.clear();
        }
        RawValue item;
        item.str = v;
        item.loc = val_loc;
        item.untyped = true;
        rv.list.push_back(item);
        return 1;
    }
    RawEntry e;
    e.key = name;
    e.loc = key_loc;
    e.value.str = v;
    e.value.loc = val_loc;
    e.value.untyped = true;
    sec.entries.push_back(std::move(e));
    return 1;
}

// Calls fn(line number, raw line, trimmed line) for each line of text.
template <class Fn>
void for_each_line(const std::string& text, Fn fn) {
    int lineno = 0;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        std::string_view raw = std::string_view(text).substr(pos, end - pos);
        fn(++lineno, raw, trim(raw));
        pos = end + 1;
    }
}

// Section header positions, found directly: inih calls nothing for them.
void locate_sections(const std::string& text, RawDoc& doc) {
    std::vector<std::pair<std::string, int>> headers;
    for_each_line(text, [&](int lineno, std::string_view raw, std::string_view line) {
        // The name as inih passes it, spaces and all.
        if (header_line(raw, line)) headers.emplace_back(std::string(line.substr(1, line.find(']') - 1)), lineno);
    });
    size_t h = 0;
    for (auto& sec : doc.sections) {
        while (h < headers.size() && headers[h].first != sec.name) ++h;
        if (h < headers.size()) sec.loc.line = headers[h++].second;
    }
    // Sections that hold no keys are invisible to inih but matter ([test],
    // an empty [application]): add them so the interpreter sees them.
    std::vector<RawSection> all;
    size_t s = 0;
    for (auto& [name, line] : headers) {
        if (s < doc.sections.size() && doc.sections[s].name == name && doc.sections[s].loc.line == line) {
            all.push_back(std::move(doc.sections[s++]));
        } else {
            all.push_back({name, {std::string(), line, 1}, {}});
        }
    }
    while (s < doc.sections.size()) all.push_back(std::move(doc.sections[s++]));
    doc.sections = std::move(all);
}

}  // namespace

RawDoc parse_ini(const std::string& input, const std::string& file, Diagnostics& diags) {
    // A byte order mark is not part of the first line. A lone CR ends a line,
    // as in Python's configparser, which read Huddle's configs.
    std::string text = input.rfind("\xef\xbb\xbf", 0) == 0 ? input.substr(3) : input;
    for (size_t i = 0; i < text.size(); ++i)
        if (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n')) text[i] = '\n';
    State st;
    st.text = &text;
    st.file = &file;
    st.diags = &diags;
    // inih does not stop at the first error; it returns the first bad line.
    // Re-scan to report every malformed line, not only the first.
    int first_bad = ini_parse_stream(reader, &st, handler, &st);
    if (first_bad > 0) {
        for_each_line(text, [&](int lineno, std::string_view raw, std::string_view line) {
            bool ok = inih_accepts(raw, line);
            if (ok) return;
            if (line.rfind("\xef\xbb\xbf", 0) == 0)
                diags.error({file, lineno, 1}, "", "the line starts with a byte order mark (U+FEFF, invisible in most editors); delete it");
            else if (line[0] == '[')
                diags.error({file, lineno, 1}, "", "section header without closing ']'");
            else
                diags.error({file, lineno, 1}, "",
                            "expected 'key = value', 'key: value' or a [section] header, found '" + std::string(line.substr(0, 40)) + "'");
        });
    }
    locate_sections(text, st.doc);
    for (auto& sec : st.doc.sections) sec.loc.file = file;
    return std::move(st.doc);
}

}  // namespace huddle
