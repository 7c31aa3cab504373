// The app's git repository (bare, /var/lib/huddle/APP/repo) through libgit2:
// ask the remote what its refs point at, fetch one ref, check a commit out
// into a directory. No git subprocess.
#pragma once
#include <git2.h>

#include <memory>
#include <string>
#include <vector>

#include "core/refselect.hpp"

namespace huddle::sys {

struct GitRepositoryDeleter {
    void operator()(git_repository* r) const { git_repository_free(r); }
};
struct GitRemoteDeleter {
    void operator()(git_remote* r) const { git_remote_free(r); }
};

struct GitAuth {
    std::string secret_path;  // credential file, root-only; "" = none
    std::string known_hosts;  // for ssh
};

class GitRepo {
public:
    static std::unique_ptr<GitRepo> open_or_init(const std::string& path, std::string& error);

    // `git ls-remote`: the remote's refs, nothing downloaded.
    int ls_remote(const std::string& url, const GitAuth& auth, std::vector<RemoteRef>& out, std::string& error);
    // Fetch one ref's objects; the commit becomes reachable from refs/huddle/fetched.
    int fetch(const std::string& url, const std::string& ref, const GitAuth& auth, std::string& error);
    bool has_commit(const std::string& oid);
    // The full id of the commit a (possibly abbreviated) id names, or "".
    std::string resolve_commit(const std::string& oid);
    // Write the commit's tree into dir (which must not exist yet). With a
    // base (a commit and the directory holding exactly its tree, never
    // written since), files the two trees share become hard links into the
    // base and only the others are written. *linked counts the links.
    int checkout(const std::string& oid, const std::string& dir, std::string& error, const std::string& base_oid = "",
                 const std::string& base_dir = "", size_t* linked = nullptr);

private:
    explicit GitRepo(git_repository* r) : repo_(r) {}
    std::unique_ptr<git_remote, GitRemoteDeleter> open_remote(const std::string& url, std::string& error);
    std::unique_ptr<git_repository, GitRepositoryDeleter> repo_;
};

// Remove user:password@ from a URL before it reaches a log line.
std::string redact_url(const std::string& url);

}  // namespace huddle::sys
