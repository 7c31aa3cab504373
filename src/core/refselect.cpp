#include "refselect.hpp"

#include <fnmatch.h>
#include <string.h>

namespace huddle {

bool version_less(const std::string& a, const std::string& b) { return strverscmp(a.c_str(), b.c_str()) < 0; }

WantedRef select_ref(const RepositoryConfig& repo, const std::vector<RemoteRef>& refs) {
    auto find = [&](const std::string& name) -> const RemoteRef* {
        for (const auto& r : refs)
            if (r.name == name) return &r;
        return nullptr;
    };
    if (!repo.tag.empty()) {
        const RemoteRef* best = nullptr;
        std::string best_tag;
        for (const auto& r : refs) {
            const std::string prefix = "refs/tags/";
            if (r.name.rfind(prefix, 0) != 0 || (r.name.size() > 3 && r.name.compare(r.name.size() - 3, 3, "^{}") == 0)) continue;
            std::string tag = r.name.substr(prefix.size());
            if (fnmatch(repo.tag.c_str(), tag.c_str(), 0) != 0) continue;
            if (!best || version_less(best_tag, tag)) {
                best = &r;
                best_tag = tag;
            }
        }
        if (!best) return {"", "", "no tag on the remote matches '" + repo.tag + "'"};
        // An annotated tag is advertised twice; the "^{}" entry is the commit.
        const RemoteRef* peeled = find(best->name + "^{}");
        return {best->name, peeled ? peeled->oid : best->oid, ""};
    }
    std::string ref;
    if (!repo.branch.empty()) {
        ref = "refs/heads/" + repo.branch;
    } else {
        const RemoteRef* head = find("HEAD");
        if (!head) return {"", "", "the remote has no default branch (HEAD); set branch = NAME"};
        if (!head->symref_target.empty()) {
            ref = head->symref_target;
        } else {
            // Without symref information, the branch HEAD points at.
            for (const auto& r : refs)
                if (r.name.rfind("refs/heads/", 0) == 0 && r.oid == head->oid) {
                    ref = r.name;
                    break;
                }
            if (ref.empty()) return {"HEAD", head->oid, ""};
        }
    }
    const RemoteRef* r = find(ref);
    if (!r) return {ref, "", "the remote has no branch '" + ref.substr(ref.rfind('/') == std::string::npos ? 0 : 11) + "' (deleted or renamed?)"};
    return {ref, r->oid, ""};
}

}  // namespace huddle
