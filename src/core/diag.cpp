#include "diag.hpp"

#include <algorithm>
#include <tuple>
#include <fmt/format.h>

namespace huddle {

bool Diagnostics::has_errors() const { return count(Severity::error) > 0; }

size_t Diagnostics::count(Severity s) const {
    return static_cast<size_t>(std::count_if(items_.begin(), items_.end(), [s](const Diagnostic& d) { return d.severity == s; }));
}

std::vector<Diagnostic> Diagnostics::sorted() const {
    std::vector<Diagnostic> v = items_;
    std::stable_sort(v.begin(), v.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return std::tie(a.loc.file, a.loc.line, a.loc.col) < std::tie(b.loc.file, b.loc.line, b.loc.col);
    });
    return v;
}

const char* severity_name(Severity s) {
    switch (s) {
    case Severity::error: return "error";
    case Severity::warning: return "warning";
    case Severity::notice: return "notice";
    }
    return "error";
}

void advance_loc(Loc& loc, const std::string& text, size_t from, size_t to) {
    for (size_t i = from; i < to && i < text.size(); ++i) {
        if (text[i] == '\n') {
            loc.line++;
            loc.col = 1;
        } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
            loc.col++;  // count characters, not UTF-8 continuation bytes
        }
    }
}

Loc loc_of_offset(const std::string& text, size_t offset, const std::string& file) {
    Loc loc{file, 1, 1};
    advance_loc(loc, text, 0, offset);
    return loc;
}

namespace {
// Keys, values and file names quoted in a diagnostic come from the file: a
// line break or NUL in them must not cut the line short or start a new one.
std::string printable(const std::string& s) {
    std::string out;
    for (char c : s) {
        unsigned char u = static_cast<unsigned char>(c);
        if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (u < 0x20 || u == 0x7f) out += fmt::format("\\x{:02x}", u);
        else out += c;
    }
    return out;
}
}  // namespace

std::string format_diagnostic(const Diagnostic& d) {
    std::string where = d.loc.file;
    if (d.loc.line > 0) {
        where += fmt::format(":{}", d.loc.line);
        if (d.loc.col > 0) where += fmt::format(":{}", d.loc.col);
    }
    std::string key = d.key.empty() ? "" : d.key + ": ";
    return printable(fmt::format("{}: {}: {}{}", where, severity_name(d.severity), key, d.message));
}

}  // namespace huddle
