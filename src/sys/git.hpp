// The app's git repository (bare, /var/lib/huddle/APP/repo) through libgit2:
// ask the remote what its refs point at, fetch one ref, check a commit out
// into a directory. No git subprocess.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/refselect.hpp"
#include "error.hpp"
#include "handles.hpp"

namespace huddle::sys {

struct GitAuth {
    std::string secret_path;  // credential file, root-only; "" = none
    std::string known_hosts;  // for ssh
};

// What the deploy cycle needs of an app's repository; tests give it a fake.
class Repository {
public:
    virtual ~Repository() = default;
    // `git ls-remote`: the remote's refs, nothing downloaded.
    virtual Result<std::vector<RemoteRef>> ls_remote(const std::string& url, const GitAuth& auth) = 0;
    // Fetch one ref's objects; the commit becomes reachable from refs/huddle/fetched.
    virtual Status fetch(const std::string& url, const std::string& ref, const GitAuth& auth) = 0;
    // The full id of the commit a (possibly abbreviated) id names, or "".
    virtual std::string resolve_commit(const std::string& oid) = 0;
    bool has_commit(const std::string& oid) { return !resolve_commit(oid).empty(); }
    // Write the commit's tree into dir (which must not exist yet). With a
    // base (a commit and the directory holding exactly its tree, never
    // written since), files the two trees share become hard links into the
    // base and only the others are written. Returns how many were linked.
    virtual Result<size_t> checkout(const std::string& oid, const std::string& dir, const std::string& base_oid = "",
                                    const std::string& base_dir = "") = 0;
};

class GitRepo final : public Repository {
public:
    // The bare repository at PATH, made when missing.
    static Result<std::unique_ptr<GitRepo>> open_or_init(const std::string& path);
    // Without making one: a missing repository can still ask a remote (for
    // --dry-run and status), and holds no commits.
    static Result<std::unique_ptr<GitRepo>> open(const std::string& path);

    Result<std::vector<RemoteRef>> ls_remote(const std::string& url, const GitAuth& auth) override;
    Status fetch(const std::string& url, const std::string& ref, const GitAuth& auth) override;
    std::string resolve_commit(const std::string& oid) override;
    Result<size_t> checkout(const std::string& oid, const std::string& dir, const std::string& base_oid = "",
                            const std::string& base_dir = "") override;

private:
    explicit GitRepo(git_repository* r) : repo_(r) {}
    Result<GitRemotePtr> open_remote(const std::string& url);
    GitRepositoryPtr repo_;  // null: none on disk (open)
};

// Remove user:password@ from a URL before it reaches a log line.
std::string redact_url(const std::string& url);

}  // namespace huddle::sys
