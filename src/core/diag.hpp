// Diagnostics: what is wrong, where, and what to do. The core never prints;
// it returns these and the binaries decide how to show them.
#pragma once
#include <string>
#include <vector>

namespace huddle {

struct Loc {
    std::string file;
    int line = 0;  // 1-based; 0 = unknown
    int col = 0;   // 1-based; 0 = unknown
};

enum class Severity { error, warning, notice };

struct Diagnostic {
    Severity severity = Severity::error;
    Loc loc;
    std::string key;  // the label: "[section] key" (or "[section]") as the user wrote it, or empty
    std::string message;
};

class Diagnostics {
public:
    void error(Loc loc, std::string key, std::string msg) { add(Severity::error, std::move(loc), std::move(key), std::move(msg)); }
    void warning(Loc loc, std::string key, std::string msg) { add(Severity::warning, std::move(loc), std::move(key), std::move(msg)); }
    void notice(Loc loc, std::string key, std::string msg) { add(Severity::notice, std::move(loc), std::move(key), std::move(msg)); }
    void add(Severity s, Loc loc, std::string key, std::string msg) {
        items_.push_back({s, std::move(loc), std::move(key), std::move(msg)});
    }
    void append(const Diagnostics& other) { items_.insert(items_.end(), other.items_.begin(), other.items_.end()); }
    bool has_errors() const;
    size_t count(Severity s) const;
    const std::vector<Diagnostic>& items() const { return items_; }
    // In file, then line order: how a reader goes through a file.
    std::vector<Diagnostic> sorted() const;

private:
    std::vector<Diagnostic> items_;
};

const char* severity_name(Severity s);

// 1-based line and column of a byte offset into TEXT; columns count
// characters, not UTF-8 continuation bytes.
Loc loc_of_offset(const std::string& text, size_t offset, const std::string& file);
// Moves LOC, the position of byte offset FROM, on to byte offset TO (at most
// the end of TEXT); TO is not before FROM.
void advance_loc(Loc& loc, const std::string& text, size_t from, size_t to);

// "FILE:LINE:COL: SEVERITY: LABEL: message" (severity error, warning or
// notice; no :LINE or :COL when unknown, no "LABEL: " when empty), the format
// compilers use, so editors and CI annotate it; control characters escaped.
std::string format_diagnostic(const Diagnostic& d);

}  // namespace huddle
