// huddlectl show: one app's config as huddle read it.
#pragma once
#include <string>
#include <vector>

namespace huddle::cli {

// ARG is an app name (looked up in DIRS) or a config file's path.
int show(const std::string& arg, const std::vector<std::string>& dirs, bool json);

}  // namespace huddle::cli
