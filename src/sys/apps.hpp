// Load every app of a search path: list, select, read, parse, validate.
// One bad file never stops the others.
#pragma once
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/sources.hpp"

namespace huddle::sys {

struct LoadedApp {
    ConfigSource source;
    LoadResult result;
};

struct LoadedApps {
    std::vector<LoadedApp> apps;           // every selected file, valid or not
    std::vector<std::string> broken_apps;  // configured but not loadable at all
    std::vector<std::string> masked_apps;
    Diagnostics diags;                     // about the directory as a whole
};

// HUDDLE_CONFIG_PATH (colon-separated) overrides the default; -c overrides both.
std::vector<std::string> search_path(const std::vector<std::string>& override_dirs);

LoadedApps load_apps(const std::vector<std::string>& dirs);
LoadedApp load_file(const std::string& path);

}  // namespace huddle::sys
