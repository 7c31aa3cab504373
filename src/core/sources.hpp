// Which files in the search path are app configs, and which one wins for each
// app. Pure: the directory listings are read by src/sys.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "diag.hpp"
#include "raw.hpp"

namespace huddle {

extern const std::vector<std::string> kDefaultSearchPath;  // /etc/huddle, /run/huddle, /usr/lib/huddle

struct DirEntry {
    std::string name;
    bool regular = true;  // a regular file, or a symlink to one
    bool masked = false;  // a symlink to /dev/null or an empty file: hides the app, as systemd masks units
};

struct DirListing {
    std::string dir;
    std::vector<DirEntry> entries;
};

struct ConfigSource {
    std::string app;
    std::string path;
    Format format;
};

struct Selection {
    std::vector<ConfigSource> sources;     // one per app, the highest-precedence file, sorted by app
    std::vector<std::string> broken_apps;  // configured, but not loadable (e.g. two formats in one dir)
    std::vector<std::string> masked_apps;
    Diagnostics diags;
};

std::optional<Format> format_of(const std::string& filename);

// Why a file in a config directory is skipped: "" if it is not.
std::string ignore_reason(const std::string& filename);

// Directories in precedence order, highest first.
Selection select_sources(const std::vector<DirListing>& dirs);

// The app a file configures: its name without the extension.
std::string app_name_of(const std::string& filename);

}  // namespace huddle
