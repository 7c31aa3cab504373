// What the config loader's files share (config.cpp, config_schema.cpp,
// config_values.cpp, config_validate.cpp, config_sections.cpp): the key
// schema, the limits, and the Interpreter that turns a RawDoc into an
// AppConfig. Private to src/core.
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config.hpp"
#include "keys.hpp"

namespace huddle::config_detail {

// The key schema (config_schema.cpp).
struct SectionSpec {
    const char* name;
    std::vector<std::string> keys;
};
const std::vector<SectionSpec>& schema();

// The kernel's limit for one argument or environment string
// (MAX_ARG_STRLEN): no command, script or variable can be longer.
constexpr size_t kMaxValueBytes = 128 * 1024;
// Longer than any key or section name, by far.
constexpr size_t kMaxKeyBytes = 100;

inline constexpr char kBackslashEnd[] = "must not end with a backslash: in a unit file it would continue the value on the next line";

// Validators of single values (config_validate.cpp).
// At most 40 bytes of S (not cutting a UTF-8 sequence), for a message.
std::string shorten(const std::string& s);
// Whether a '/'-separated path has a ".." component.
bool has_dot_dot(const std::string& path);
bool valid_user_name(const std::string& u);
bool valid_ref_text(const std::string& s);
// What is wrong with a remote path, or "". Secrets never go in it (it is
// logged and shown in unit properties), and only the transports libgit2
// speaks are accepted: no "transport::address" remote helpers such as ext::.
std::string remote_path_problem(const std::string& u);
// The scheme in lower case, as libgit2 matches it.
std::string normalize_remote_path(std::string u);

// Columns from the opening quote of a JSON string literal to the character
// at decoded byte offset `off`, stepping over escapes.
int literal_columns(const std::string& lit, size_t off);

struct Found {
    const RawSection* section;
    const RawEntry* entry;
    std::string label;  // "[section] key" as written, for messages
};

// Reads one document: index() checks the sections and keys against the
// schema (config_schema.cpp); the value readers (config_values.cpp) read one
// key each, reporting what is wrong with it; the section interpreters
// (config_sections.cpp) fill the AppConfig; run() (config.cpp) does it all.
class Interpreter {
public:
    Interpreter(const std::string& name, const std::string& file, Format format, Diagnostics& d)
        : name_(name), file_(file), format_(format), diags_(d) {}

    std::optional<AppConfig> run(const RawDoc& doc);

private:
    void index(const RawDoc& doc);
    const Found* get(const char* section, const char* key) const {
        auto it = found_.find(std::string(section) + "/" + normalize_key(key));
        return it == found_.end() ? nullptr : &it->second;
    }
    bool has_section(const char* s) const { return sections_.count(s) > 0; }
    Loc section_loc(const char* s) const {
        auto it = sections_.find(s);
        return it == sections_.end() ? Loc{file_, 1, 0} : it->second->loc;
    }

    void error(const Found& f, const std::string& msg) { diags_.error(f.entry->value.loc, f.label, msg); }
    void error_at(const Loc& loc, const std::string& label, const std::string& msg) { diags_.error(loc, label, msg); }

    std::optional<std::string> str(const char* section, const char* key);
    std::optional<bool> boolean(const char* section, const char* key);
    std::optional<usec_t> duration(const char* section, const char* key);
    std::optional<int64_t> integer(const char* section, const char* key, int64_t lo, int64_t hi);
    std::optional<uint64_t> size(const char* section, const char* key, uint64_t lo);
    std::optional<std::vector<std::string>> list(const char* section, const char* key, bool comma_splits);
    std::optional<std::string> abs_path(const char* section, const char* key);
    std::optional<std::vector<std::string>> command(const char* section, const char* key);
    std::optional<std::string> one_of(const char* section, const char* key, std::initializer_list<const char*> allowed);
    std::optional<std::string> scalar_text(const Found& f);

    void repository(AppConfig& c);
    void signing(RepositoryConfig& r);
    void timing(AppConfig& c);
    void application(AppConfig& c);
    void deploy(AppConfig& c);
    void watchdog(AppConfig& c);
    void limits(AppConfig& c);
    void check_test();
    void environment(ApplicationConfig& a);
    bool env_ok(const Loc& loc, const std::string& label, const std::string& k, const std::string& v);

    std::string name_, file_;
    Format format_;
    Diagnostics& diags_;
    std::map<std::string, Found> found_;
    std::map<std::string, const RawSection*> sections_;
    // What a required key's absence may already be explained by: an unknown
    // section (it may hold the key), or an unknown key with a "did you mean".
    bool unknown_section_ = false;
    std::set<std::string> hinted_;
    bool explained(const char* section, const char* key) const {
        return hinted_.count(std::string(section) + "/" + normalize_key(key)) > 0;
    }
};

}  // namespace huddle::config_detail
