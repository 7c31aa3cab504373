// What `huddlectl show` prints: a config as huddle read it. The entries as
// the parser read them (after INI's [DEFAULT] and interpolation), and each
// setting of the model, defaults included, with where it came from. Pure.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"

namespace huddle {

struct ReadEntry {
    std::string section, key;  // as written
    Loc loc;
    std::string text;  // the value; a multi-line value's lines joined by "\n"
    std::optional<std::string> written;  // INI: as written, when interpolation changed it
    bool inherited = false;              // INI: from [DEFAULT] (loc points there)
};

std::vector<ReadEntry> read_entries(const RawDoc& doc);

struct Setting {
    std::string section, key;  // canonical spelling
    enum class Kind { text, list, argv, number, unset } kind = Kind::text;
    std::string text;
    std::vector<std::string> items;  // list: one per line; argv: the words of one command
    int64_t number = 0;
    std::vector<Loc> from;  // the entries it was read from; empty: the default
};

// Every setting of the model, in the order of huddle.conf(5).
std::vector<Setting> settings(const AppConfig& c, const RawDoc& doc);

}  // namespace huddle
