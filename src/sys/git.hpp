// The app's git repository (bare, /var/lib/huddle/APP/repo) through libgit2:
// ask the remote what its refs point at, fetch one ref, check a commit out
// into a directory. No git subprocess.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/refselect.hpp"
#include "core/signature.hpp"
#include "error.hpp"
#include "handles.hpp"

namespace huddle::sys {

struct GitAuth {
    std::string secret_path;  // credential file, root-only; "" = none
    std::string known_hosts;  // for ssh
    // The files' contents, when read already: the fetch process gets them
    // through fds root opened (fetcher.hpp) and could not open the paths.
    // The paths then only name them in messages.
    std::optional<std::string> secret, known_hosts_content;
};

// What the deploy cycle needs of an app's repository; tests give it a fake.
class Repository {
public:
    virtual ~Repository() = default;
    // `git ls-remote`: the remote's refs, nothing downloaded.
    virtual Result<std::vector<RemoteRef>> ls_remote(const std::string& url, const GitAuth& auth) = 0;
    // Fetch one ref's objects; the commit becomes reachable from refs/huddle/fetched.
    // More than MAX_BYTES received: stopped, -EFBIG, nothing kept.
    virtual Status fetch(const std::string& url, const std::string& ref, const GitAuth& auth, uint64_t max_bytes) = 0;
    // The full id of the commit a (possibly abbreviated) id names, or "".
    virtual std::string resolve_commit(const std::string& oid) = 0;
    bool has_commit(const std::string& oid) { return !resolve_commit(oid).empty(); }
    // Write the commit's tree into dir (which must not exist yet). With a
    // base (a commit and the directory holding exactly its tree, never
    // written since), files the two trees share become hard links into the
    // base and only the others are written. Returns how many were linked.
    // A tree holding an entry name that is not a plain file name ("..",
    // ".git", "a/b"; core/treename.hpp) is refused, -EINVAL, and one whose
    // files add up to more than MAX_BYTES, -EFBIG, before anything is written.
    virtual Result<size_t> checkout(const std::string& oid, const std::string& dir, uint64_t max_bytes, const std::string& base_oid = "",
                                    const std::string& base_dir = "") = 0;
    // Whether the repository holds the object (any type) with this full id.
    virtual bool has_object(const std::string& oid) = 0;
    // A commit's signature and the bytes it covers (git_commit_extract_signature);
    // an empty signature when the commit is not signed. -ENOENT: no such commit.
    virtual Result<SignedPayload> commit_signature(const std::string& oid) = 0;
    // An annotated tag object's raw content, when it tags COMMIT directly.
    // -ENOENT: no such object; -EMEDIUMTYPE: not an annotated tag (a
    // lightweight tag names the commit itself); -EXDEV: it tags something else.
    virtual Result<std::string> tag_object(const std::string& oid, const std::string& commit) = 0;
    // Whether COMMIT has ANCESTOR in its history (or is it).
    virtual Result<bool> descends_from(const std::string& commit, const std::string& ancestor) = 0;
};

class GitRepo final : public Repository {
public:
    // The bare repository at PATH, made when missing.
    static Result<std::unique_ptr<GitRepo>> open_or_init(const std::string& path);
    // Without making one: a missing repository can still ask a remote (for
    // --dry-run and status), and holds no commits.
    static Result<std::unique_ptr<GitRepo>> open(const std::string& path);
    // None at all: only ls_remote works (the fetch process's poll).
    static std::unique_ptr<GitRepo> detached();

    Result<std::vector<RemoteRef>> ls_remote(const std::string& url, const GitAuth& auth) override;
    Status fetch(const std::string& url, const std::string& ref, const GitAuth& auth, uint64_t max_bytes) override;
    std::string resolve_commit(const std::string& oid) override;
    Result<size_t> checkout(const std::string& oid, const std::string& dir, uint64_t max_bytes, const std::string& base_oid = "",
                            const std::string& base_dir = "") override;
    bool has_object(const std::string& oid) override;
    Result<SignedPayload> commit_signature(const std::string& oid) override;
    Result<std::string> tag_object(const std::string& oid, const std::string& commit) override;
    Result<bool> descends_from(const std::string& commit, const std::string& ancestor) override;

private:
    explicit GitRepo(git_repository* r) : repo_(r) {}
    Result<GitRemotePtr> open_remote(const std::string& url);
    GitRepositoryPtr repo_;  // null: none on disk (open)
};

// For the fetch process, a child that did not exec: libgit2 made anew, so
// that its TLS random generator is not the parent's copy (two children's
// handshakes would use the same randomness); no global or XDG config (its
// HOME, and the search path libgit2 took from it, are root's); and
// repositories that are not the fetch user's own may be opened.
void fresh_libgit2_for_fetch_process();

// Remove user:password@ from a URL before it reaches a log line.
std::string redact_url(const std::string& url);

}  // namespace huddle::sys
