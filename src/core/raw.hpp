// The format-neutral shape every parser produces: sections of key/value
// entries with their source positions. The config interpreter works only on
// this, so JSON, INI and TOML share one set of rules and messages.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "diag.hpp"

namespace huddle {

struct RawValue {
    enum class Kind { string, integer, floating, boolean, list, table };
    Kind kind = Kind::string;
    std::string str;
    int64_t integer = 0;
    double floating = 0;
    bool boolean = false;
    std::vector<RawValue> list;
    std::vector<std::pair<std::string, RawValue>> table;
    Loc loc;
    Loc key_loc;  // for a table member: where its key is written
    std::string source;  // a JSON string's literal as written, quotes and escapes included
    // INI has only strings: every value is text to be coerced, and lines of a
    // multi-line value arrive as list items.
    bool untyped = false;
};

struct RawEntry {
    std::string key;  // as written
    Loc loc;          // of the key
    RawValue value;
    // INI only: the value as written, when %-interpolation changed it, and
    // whether the entry was inherited from [DEFAULT] (loc points there).
    std::optional<std::string> written;
    bool inherited = false;
};

struct RawSection {
    std::string name;  // as written
    Loc loc;           // of the header (or of the first key for JSON/TOML)
    std::vector<RawEntry> entries;
    bool defaults = false;  // INI's [DEFAULT]: inherited by the others, not a section of its own
};

struct RawDoc {
    std::vector<RawSection> sections;
};

enum class Format { json, ini, toml };

// Parse text of the given format. Syntax errors go to diags; whatever could be
// read is returned so later checks still run where that is meaningful.
RawDoc parse_json(const std::string& text, const std::string& file, Diagnostics& diags);
RawDoc parse_ini(const std::string& text, const std::string& file, Diagnostics& diags);
RawDoc parse_toml(const std::string& text, const std::string& file, Diagnostics& diags);
RawDoc parse_any(Format f, const std::string& text, const std::string& file, Diagnostics& diags);

const char* format_name(Format f);

}  // namespace huddle
