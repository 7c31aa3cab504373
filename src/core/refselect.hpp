// Which commit the remote wants deployed, from its advertised refs (what
// `git ls-remote` lists) and the app's repository settings. Pure.
#pragma once
#include <string>
#include <vector>

#include "config.hpp"

namespace huddle {

struct RemoteRef {
    std::string name;  // "refs/heads/main", "refs/tags/v1", "refs/tags/v1^{}", "HEAD"
    std::string oid;   // hex
    std::string symref_target;  // for HEAD: "refs/heads/main", if advertised
};

struct WantedRef {
    std::string ref;     // the ref followed, e.g. "refs/heads/main"
    std::string oid;     // the commit the ref points at now (tags peeled)
    std::string error;   // set when nothing can be chosen
};

WantedRef select_ref(const RepositoryConfig& repo, const std::vector<RemoteRef>& refs);

// Version order, as sort -V and strverscmp(3): release-9 < release-10.
bool version_less(const std::string& a, const std::string& b);

}  // namespace huddle
