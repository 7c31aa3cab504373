// What talks to an app's remote runs as the app's fetch user, not as root:
// `git ls-remote` and the fetch (libgit2 with libssh2, mbedTLS, the HTTP
// and pack parsers) run in a child process that has dropped to that user,
// with no capability and no_new_privs. Root keeps the rest of the cycle and
// reads what the child wrote only through libgit2's hash-checked object
// reads, after taking the repository's objects and refs back with fd walks.
//
// The child gets the credential and the known hosts file as fds root opened
// and never read: the unprivileged side reads the secret, root only checks
// who owns it and opens it, much as PID 1 does for LoadCredential=.
#pragma once
#include <memory>
#include <string>

#include "git.hpp"
#include "process.hpp"

namespace huddle::sys {

class SeparatedRepo final : public Repository {
public:
    // REPO: root's, opened on PATH. FETCHER: whom the remote is talked to as.
    SeparatedRepo(std::unique_ptr<GitRepo> repo, std::string path, UserIds fetcher, std::string fetcher_name = "the fetch user")
        : repo_(std::move(repo)), path_(std::move(path)), fetcher_(std::move(fetcher)), name_(std::move(fetcher_name)) {}

    Result<std::vector<RemoteRef>> ls_remote(const std::string& url, const GitAuth& auth) override;
    Status fetch(const std::string& url, const std::string& ref, const GitAuth& auth, uint64_t max_bytes) override;
    std::string resolve_commit(const std::string& oid) override { return repo_->resolve_commit(oid); }
    Result<size_t> checkout(const std::string& oid, const std::string& dir, uint64_t max_bytes, const std::string& base_oid = "",
                            const std::string& base_dir = "") override {
        return repo_->checkout(oid, dir, max_bytes, base_oid, base_dir);
    }
    bool has_object(const std::string& oid) override { return repo_->has_object(oid); }
    Result<SignedPayload> commit_signature(const std::string& oid) override { return repo_->commit_signature(oid); }
    Result<std::string> tag_object(const std::string& oid, const std::string& commit) override { return repo_->tag_object(oid, commit); }
    Result<bool> descends_from(const std::string& commit, const std::string& ancestor) override {
        return repo_->descends_from(commit, ancestor);
    }

private:
    Error with_hint(const std::string& url, Error e) const;
    std::unique_ptr<GitRepo> repo_;
    std::string path_;
    UserIds fetcher_;
    std::string name_;
};

// The repository at PATH for a cycle run by root: the remote is talked to as
// FETCH_USER (-ENOENT when that user does not exist: huddle-gen makes it).
// Run by anyone else, a plain GitRepo: no one to drop to, nothing to protect.
Result<std::unique_ptr<Repository>> open_separated(const std::string& path, bool create, const std::string& fetch_user);

// Between fetches the repository's objects and refs are root's; for a fetch
// they are the fetch user's. Taking them back drops what a fetch never
// writes and root must not follow: symlinks, devices, fifos, sockets, and
// objects/info/alternates (objects read from elsewhere).
Status hand_over_repository(const std::string& path, const UserIds& to);
Status take_back_repository(const std::string& path);

}  // namespace huddle::sys
