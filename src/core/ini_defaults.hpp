// What configparser did to an INI file's values after reading its lines:
// [DEFAULT]'s keys inherited by every section, and BasicInterpolation
// ('%%' is '%', '%(name)s' another key's value). Pure: no I/O.
#pragma once
#include <functional>
#include <string>

#include "raw.hpp"

namespace huddle {

constexpr const char* kDefaultSection = "DEFAULT";

// Copies [DEFAULT]'s keys into each section that knows them and does not set
// them, then interpolates every value huddle reads. A notice for each value
// interpolation changed and for each '%' kept as written; an error for a
// reference to no key.
void apply_ini_defaults(RawDoc& doc, Diagnostics& diags);

// One value interpolated as configparser's BasicInterpolation.before_get
// does, LOOKUP giving another key's raw value (nullptr: no such key).
struct Interpolated {
    std::string text;
    std::string error;           // set: the value cannot be read
    bool kept_percent = false;   // a '%' not followed by '%' or '(' was kept as written
};
using KeyLookup = std::function<const std::string*(const std::string& lowercase_name)>;
Interpolated interpolate(const std::string& value, const KeyLookup& lookup);

}  // namespace huddle
