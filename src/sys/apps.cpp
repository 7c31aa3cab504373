#include "apps.hpp"

#include <cstdlib>
#include <tuple>

#include "fs.hpp"

namespace huddle::sys {

std::vector<std::string> search_path(const std::vector<std::string>& override_dirs) {
    if (!override_dirs.empty()) return override_dirs;
    if (const char* env = std::getenv("HUDDLE_CONFIG_PATH"); env && *env) {
        std::vector<std::string> dirs;
        std::string s = env;
        size_t pos = 0;
        while (pos <= s.size()) {
            size_t c = s.find(':', pos);
            std::string d = s.substr(pos, c == std::string::npos ? std::string::npos : c - pos);
            if (!d.empty()) dirs.push_back(d);
            if (c == std::string::npos) break;
            pos = c + 1;
        }
        return dirs;
    }
    return kDefaultSearchPath;
}

// The files that say who may release are trust, as the config is: missing,
// unreadable, or changeable by others is an error, never "verification off".
static void check_trust_files(LoadResult& r) {
    if (!r.config) return;
    const RepositoryConfig& repo = r.config->repo;
    bool bad = false;
    for (auto [path, loc, label] : {std::tuple{&repo.signers, &repo.signers_loc, "[repository] signers"},
                                    std::tuple{&repo.keyring, &repo.keyring_loc, "[repository] keyring"}}) {
        if (path->empty()) continue;
        std::string why = unsafe_permissions(*path);
        if (why.empty()) {
            if (auto f = read_file(*path, 16 * 1024 * 1024); !f) why = f.error().message;
            else if (f->empty()) why = *path + " is empty; it must list who may sign releases";
        } else {
            why = "refused: " + why;
        }
        if (why.empty()) continue;
        r.diags.error(*loc, label, why);
        bad = true;
    }
    if (bad) r.config.reset();
}

static LoadedApp load_source(const ConfigSource& src) {
    LoadedApp a{src, {}};
    if (std::string why = unsafe_permissions(src.path); !why.empty()) {
        a.result.diags.error({src.path, 0, 0}, "", "refused: " + why);
        return a;
    }
    auto r = read_file(src.path);
    if (!r) {
        // The diagnostic names the file already.
        const std::string& m = r.error().message;
        a.result.diags.error({src.path, 0, 0}, "", m.substr(m.find(": ") + 2));
        return a;
    }
    a.result = load_config(src.app, src.path, src.format, *r);
    check_trust_files(a.result);
    return a;
}

LoadedApps load_apps(const std::vector<std::string>& dirs) {
    std::vector<DirListing> listings;
    for (const auto& d : dirs) listings.push_back(list_dir(d));
    Selection sel = select_sources(listings);
    LoadedApps out;
    out.broken_apps = sel.broken_apps;
    out.masked_apps = sel.masked_apps;
    out.diags = sel.diags;
    for (const auto& src : sel.sources) out.apps.push_back(load_source(src));
    std::vector<LoadResult*> results;
    for (auto& a : out.apps) results.push_back(&a.result);
    refuse_shared_local_paths(results);
    return out;
}

LoadedApp load_file(const std::string& path) {
    std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
    auto fmt = format_of(base);
    if (!fmt) {
        LoadedApp a{{app_name_of(base), path, Format::ini}, {}};
        a.result.diags.error({path, 0, 0}, "", "unknown format: config files end in .json, .ini or .toml");
        return a;
    }
    return load_source({app_name_of(base), path, *fmt});
}

}  // namespace huddle::sys
