#include "git.hpp"

#include <unistd.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <unordered_set>

#include "config.h"
#if HUDDLE_HAVE_GIT2_SYS_ERRORS_H
#include <git2/sys/errors.h>
#endif

#include "core/credpolicy.hpp"
#include "core/escape.hpp"
#include "core/size.hpp"
#include "core/known_hosts.hpp"
#include "core/treename.hpp"
#include "core/url.hpp"
#include "fs.hpp"

#include <spdlog/spdlog.h>

namespace huddle::sys {
namespace {

// libgit2's messages quote what a server sent (a content type, an ERR
// line): escaped, as every value from the remote on its way to a log.
std::string last_error(const char* what) {
    const git_error* e = git_error_last();
    return std::string(what) + ": " + (e && e->message ? escape_untrusted(e->message) : "unknown libgit2 error");
}

// libgit2's error classes that say the network or the server failed: worth
// retrying at the next poll. Everything else is taken as the repository's.
Error git_failure(int rc, const std::string& what) {
    const git_error* e = git_error_last();
    int klass = e ? e->klass : GIT_ERROR_NONE;
    int code = rc == GIT_ENOTFOUND               ? -ENOENT
               : rc == GIT_ECERTIFICATE || rc == GIT_EAUTH ? -EACCES
               : klass == GIT_ERROR_NET || klass == GIT_ERROR_SSH || klass == GIT_ERROR_HTTP || klass == GIT_ERROR_SSL ? -ECOMM
                                                                                                                   : -EIO;
    return Error{code, last_error(what.c_str())};
}

void init_once() {
    static std::once_flag once;
    std::call_once(once, [] { git_libgit2_init(); });
}

// Debian's libgit2 uses mbedTLS, which trusts nothing until told where the
// system's CA bundle is. Parsing it costs most of a poll, so only for https.
void trust_system_cas(const std::string& url) {
    static std::once_flag once;
    auto parts = split_url(url);
    if (!parts || parts->scheme != "https") return;
    std::call_once(once, [] {
        if (::access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0)
            git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, "/etc/ssl/certs/ca-certificates.crt", nullptr);
    });
}

struct Callbacks {
    const GitAuth* auth;
    std::string url;
    int attempts = 0;
    // Why a callback refused the connection. libgit2 1.9 replaces the error a
    // certificate callback sets with its own ("invalid or unknown remote ssh
    // hostkey"), so the reason is kept here, not only in libgit2's error.
    std::string refusal;
    // A fetch receiving more than this is stopped (limits fetch).
    uint64_t max_bytes = UINT64_MAX;
    bool too_big = false;
};

// The error of a failed remote operation: the callback's own reason first.
// A redirect to another host is refused by libgit2 (follow_redirects is
// GIT_REMOTE_REDIRECT_NONE: libgit2 gives the credentials callback the URL
// first asked for, not the one redirected to, so the callback alone could
// not tell); its message says so, in words of its own that huddle explains.
Error remote_error(const Callbacks& cb, int rc, const std::string& what) {
    if (!cb.refusal.empty()) return Error{-EACCES, what + ": " + cb.refusal};
    const git_error* e = git_error_last();
    if (e && e->klass == GIT_ERROR_NET && e->message && std::strstr(e->message, "cannot redirect"))
        return Error{-EACCES, last_error(what.c_str()) +
                                  "; huddle follows no redirect to another host, so that credentials go only to the configured one: "
                                  "if that host is to be trusted, set remote path to the URL it redirects to"};
    return git_failure(rc, what);
}

int refuse(Callbacks* cb, int klass, std::string reason) {
    git_error_set_str(klass, reason.c_str());
    cb->refusal = std::move(reason);
    return GIT_ECERTIFICATE;
}

// The port an ssh URL names (ssh://host:PORT/...), or 22.
int ssh_port(const std::string& url) {
    auto parts = split_url(url);
    if (!parts || parts->port.empty()) return 22;
    return std::atoi(parts->port.c_str());
}

// SSH host keys are checked against known hosts, always: libgit2 1.5 accepts
// any key, and 1.7 and later read ~/.ssh/known_hosts, not the app's file.
// TLS certificates are left to libgit2, which refuses invalid ones; the
// callback only gives the reason.
int certificate_check(git_cert* cert, int valid, const char* host, void* payload) {
    auto* cb = static_cast<Callbacks*>(payload);
    if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2) {
        if (valid) return 0;
        return refuse(cb, GIT_ERROR_NET, "the TLS certificate of " + std::string(host) +
                                             " is not valid (not signed by a trusted authority, expired, or for another name); refusing to connect");
    }
    auto* hk = reinterpret_cast<git_cert_hostkey*>(cert);
    const std::string& known = cb->auth->known_hosts;
    if (!(hk->type & GIT_CERT_SSH_RAW)) {
        return refuse(cb, GIT_ERROR_SSH, "the server's host key could not be read, so it cannot be checked");
    }
    std::string key(hk->hostkey, hk->hostkey_len);
    int port = ssh_port(cb->url);
    std::string names = port == 22 ? std::string(host) : "[" + std::string(host) + "]:" + std::to_string(port);
    auto r = cb->auth->known_hosts_content ? Result<std::string>(*cb->auth->known_hosts_content) : read_file(known, 4 * 1024 * 1024);
    auto verdict = r ? check_host_key(*r, names, key) : HostKeyVerdict::not_listed;
    if (verdict == HostKeyVerdict::match) return 0;
    std::string msg = !r ? "no known hosts file " + known + "; add the server's key to it (ssh-keyscan)"
                      : verdict == HostKeyVerdict::revoked  ? "the host key of " + names + " is marked @revoked in " + known + "; refusing to connect"
                      : verdict == HostKeyVerdict::mismatch ? "the host key of " + names + " does not match " + known + "; refusing to connect"
                                                                  : names + " is not in " + known + "; add its key (ssh-keyscan) after checking it";
    return refuse(cb, GIT_ERROR_SSH, std::move(msg));
}

// What is offered is decided by the configured remote's scheme and the
// credential's kind (core/credpolicy.hpp), not by the types the server says
// it accepts: a server that offers only passwords never gets the key file.
int credentials(git_credential** out, const char* url, const char* username_from_url, unsigned int allowed, void* payload) {
    auto* cb = static_cast<Callbacks*>(payload);
    // The reasons are huddle's own: libgit2's wording differs between versions.
    const std::string& secret = cb->auth->secret_path;
    if (secret.empty()) {
        cb->refusal = "the server requires authentication and the config names no credential; add credential = NAME (a file in /etc/huddle/credentials/)";
        return GIT_PASSTHROUGH;
    }
    if (++cb->attempts > 1) {
        cb->refusal = "the server refused the credential in " + secret + " (authentication failed); check that it is current";
        return GIT_PASSTHROUGH;
    }
    CredChoice choice = choose_credential(cb->url, url ? url : "", allowed & GIT_CREDENTIAL_SSH_KEY, allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT, secret);
    if (choice.offer == CredOffer::refuse) {
        cb->refusal = std::move(choice.refusal);
        return GIT_EUSER;
    }
    const char* ssh_user = username_from_url ? username_from_url : "git";
    if (choice.offer == CredOffer::ssh_key && cb->auth->secret)
        return git_credential_ssh_key_memory_new(out, ssh_user, nullptr, cb->auth->secret->c_str(), nullptr);
    if (choice.offer == CredOffer::ssh_key) return git_credential_ssh_key_new(out, ssh_user, nullptr, secret.c_str(), nullptr);
    auto r = cb->auth->secret ? Result<std::string>(*cb->auth->secret) : read_file(secret, 64 * 1024);
    if (!r) {
        cb->refusal = "cannot read the credential " + secret + ": " + r.error().message;
        return GIT_EUSER;
    }
    if (looks_like_private_key(*r)) {
        cb->refusal = "the credential " + secret + " holds an ssh private key, which huddle sends only to an ssh remote; an https remote takes a token (TOKEN or USER:TOKEN)";
        return GIT_EUSER;
    }
    std::string token = *r;
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
    // "user:token" or a bare token (sent with the user name "huddle").
    size_t colon = token.find(':');
    std::string user = colon == std::string::npos ? "huddle" : token.substr(0, colon);
    std::string pass = colon == std::string::npos ? token : token.substr(colon + 1);
    return git_credential_userpass_plaintext_new(out, user.c_str(), pass.c_str());
}

git_remote_callbacks make_callbacks(Callbacks& cb) {
    git_remote_callbacks c = GIT_REMOTE_CALLBACKS_INIT;
    c.credentials = credentials;
    c.certificate_check = certificate_check;
    c.transfer_progress = [](const git_indexer_progress* stats, void* payload) {
        auto* state = static_cast<Callbacks*>(payload);
        if (stats->received_bytes <= state->max_bytes) return 0;
        state->too_big = true;
        return -1;
    };
    c.payload = &cb;
    return c;
}

}  // namespace

std::string redact_url(const std::string& url) {
    auto parts = split_url(url);
    if (!parts || !parts->has_userinfo) return url;
    size_t begin = parts->scheme_length + 3;  // after "://"
    return url.substr(0, begin) + "***@" + url.substr(begin + parts->userinfo.size() + 1);
}

Result<std::unique_ptr<GitRepo>> GitRepo::open_or_init(const std::string& path) {
    init_once();
    git_repository* r = nullptr;
    if (git_repository_open_bare(&r, path.c_str()) == 0) return std::unique_ptr<GitRepo>(new GitRepo(r));
    if (int rc = git_repository_init(&r, path.c_str(), 1); rc < 0) return git_failure(rc, "cannot open or create the repository " + path);
    return std::unique_ptr<GitRepo>(new GitRepo(r));
}

Result<std::unique_ptr<GitRepo>> GitRepo::open(const std::string& path) {
    init_once();
    git_repository* r = nullptr;
    int rc = git_repository_open_bare(&r, path.c_str());
    if (rc == GIT_ENOTFOUND) return std::unique_ptr<GitRepo>(new GitRepo(nullptr));
    if (rc < 0) return git_failure(rc, "cannot open the repository " + path);
    return std::unique_ptr<GitRepo>(new GitRepo(r));
}

void fresh_libgit2_for_fetch_process() {
    init_once();
    while (git_libgit2_shutdown() > 0) {
    }
    git_libgit2_init();
    for (int level : {GIT_CONFIG_LEVEL_GLOBAL, GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_PROGRAMDATA})
        git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, "");
    // The app's repository is root's, a file:// remote anyone's: neither is
    // the fetch user's, which git's safe.directory check wants. That check
    // keeps git from running commands a repository's config names, and
    // libgit2 runs none.
    git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
}

std::unique_ptr<GitRepo> GitRepo::detached() {
    init_once();
    return std::unique_ptr<GitRepo>(new GitRepo(nullptr));
}

Result<GitRemotePtr> GitRepo::open_remote(const std::string& url) {
    trust_system_cas(url);
    git_remote* raw = nullptr;
    int rc = repo_ ? git_remote_create_anonymous(&raw, repo_.get(), url.c_str()) : git_remote_create_detached(&raw, url.c_str());
    if (rc < 0) return Error{-EINVAL, last_error("bad remote URL")};
    return GitRemotePtr(raw);
}

Result<std::vector<RemoteRef>> GitRepo::ls_remote(const std::string& url, const GitAuth& auth) {
    auto remote = open_remote(url);
    if (!remote) return remote.error();
    git_remote* raw = remote->get();
    Callbacks cb{&auth, url, 0, {}};
    git_remote_connect_options opts = GIT_REMOTE_CONNECT_OPTIONS_INIT;
    opts.callbacks = make_callbacks(cb);
    opts.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
    if (int rc = git_remote_connect_ext(raw, GIT_DIRECTION_FETCH, &opts); rc < 0)
        return remote_error(cb, rc, "cannot reach " + redact_url(url));
    const git_remote_head** heads = nullptr;
    size_t n = 0;
    if (int rc = git_remote_ls(&heads, &n, raw); rc < 0) return git_failure(rc, "cannot list the remote's refs");
    std::vector<RemoteRef> out;
    for (size_t i = 0; i < n; ++i) {
        // Refs are validated as git does; a server may advertise any bytes
        // (escape sequences, line breaks), and those are not followed. A
        // peeled tag is advertised as NAME^{}.
        std::string_view name = heads[i]->name;
        if (name.ends_with("^{}")) name.remove_suffix(3);
        int valid = 0;
        if (git_reference_name_is_valid(&valid, std::string(name).c_str()) < 0 || !valid) {
            spdlog::warn("ignoring the remote's ref '{}': not a valid git ref name", escape_untrusted(heads[i]->name));
            continue;
        }
        char hex[GIT_OID_HEXSZ + 1] = {};
        git_oid_tostr(hex, sizeof hex, &heads[i]->oid);
        out.push_back({heads[i]->name, hex, heads[i]->symref_target ? heads[i]->symref_target : ""});
    }
    git_remote_disconnect(raw);
    return out;
}

Status GitRepo::fetch(const std::string& url, const std::string& ref, const GitAuth& auth, uint64_t max_bytes) {
    if (!repo_) return Error{-ENOENT, "no repository to fetch into"};
    auto remote = open_remote(url);
    if (!remote) return remote.error();
    git_remote* raw = remote->get();
    Callbacks cb{&auth, url, 0, {}};
    cb.max_bytes = max_bytes;
    git_fetch_options opts = GIT_FETCH_OPTIONS_INIT;
    opts.callbacks = make_callbacks(cb);
    opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
    // Nothing outside objects/ and refs/: the fetch process may write only there (fetcher.hpp).
    opts.update_fetchhead = 0;
    opts.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
    // Force: a force-pushed branch is followed, not refused.
    std::string spec = "+" + ref + ":refs/huddle/fetched";
    char* specs[] = {spec.data()};
    git_strarray refspecs = {specs, 1};
    if (int rc = git_remote_fetch(raw, &refspecs, &opts, "huddle fetch"); rc < 0) {
        if (cb.too_big)
            return Error{-EFBIG, fmt::format("fetching {} from {} stopped after more than {} (limits fetch); raise [limits] fetch if the "
                                             "repository is meant to be that large",
                                             ref, redact_url(url), format_size(max_bytes))};
        return remote_error(cb, rc, "fetching " + ref + " from " + redact_url(url) + " failed");
    }
    return {};
}

std::string GitRepo::resolve_commit(const std::string& hex) {
    git_oid oid;
    if (!repo_ || hex.empty() || git_oid_fromstrn(&oid, hex.c_str(), hex.size()) < 0) return "";
    git_commit* raw = nullptr;
    if (git_commit_lookup_prefix(&raw, repo_.get(), &oid, hex.size()) < 0) return "";
    GitCommitPtr c(raw);
    return git_oid_tostr_s(git_commit_id(c.get()));
}

namespace {

GitTreePtr commit_tree(git_repository* repo, const std::string& hex) {
    git_oid oid;
    git_commit* commit = nullptr;
    git_tree* tree = nullptr;
    if (repo && git_oid_fromstr(&oid, hex.c_str()) == 0 && git_commit_lookup(&commit, repo, &oid) == 0) {
        GitCommitPtr owned(commit);
        git_commit_tree(&tree, commit);
    }
    return GitTreePtr(tree);
}

// The paths of `tree` that differ from `base`, or nullopt when a
// .gitattributes file changed (filters could then change any file).
std::optional<std::unordered_set<std::string>> changed_paths(git_repository* repo, git_tree* base, git_tree* tree) {
    git_diff* raw = nullptr;
    git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
    opts.flags |= GIT_DIFF_INCLUDE_TYPECHANGE;
    if (git_diff_tree_to_tree(&raw, repo, base, tree, &opts) < 0) return std::nullopt;
    GitDiffPtr diff(raw);
    std::unordered_set<std::string> out;
    bool attributes = false;
    for (size_t i = 0, n = git_diff_num_deltas(diff.get()); i < n; ++i) {
        const git_diff_delta* d = git_diff_get_delta(diff.get(), i);
        for (const char* p : {d->old_file.path, d->new_file.path}) {
            std::string_view path(p ? p : "");
            if (path == ".gitattributes" || path.ends_with("/.gitattributes")) attributes = true;
        }
        if (d->status != GIT_DELTA_DELETED) out.insert(d->new_file.path);
    }
    if (attributes) return std::nullopt;
    return out;
}

struct LinkWalk {
    const std::unordered_set<std::string>* changed;
    std::vector<std::string> to_write;
    std::string base, dir;
    size_t linked = 0;
    int error = 0;
};

int link_entry(const char* root, const git_tree_entry* e, void* payload) {
    auto* w = static_cast<LinkWalk*>(payload);
    std::string path = std::string(root) + git_tree_entry_name(e);
    git_filemode_t mode = git_tree_entry_filemode(e);
    if (mode == GIT_FILEMODE_TREE) {
        if (::mkdir((w->dir + "/" + path).c_str(), 0755) < 0 && errno != EEXIST) w->error = errno;
        return w->error ? -1 : 0;
    }
    bool plain = mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE || mode == GIT_FILEMODE_LINK;
    if (plain && !w->changed->count(path) && ::link((w->base + "/" + path).c_str(), (w->dir + "/" + path).c_str()) == 0) {
        w->linked++;
        return 0;
    }
    w->to_write.push_back(path);
    return 0;
}

// Every entry name of the tree, before anything is written for it: a name
// such as "../x", "a/b" or ".git" would have the link walk or the checkout
// write outside the release, or into a repository's control files.
// The same walk adds up the files' sizes (object headers only, no content
// read), so that a tree larger than the limit writes nothing either.
constexpr uint64_t kBlockBytes = 4096;
struct NameWalk {
    git_odb* odb;
    uint64_t max_bytes, bytes = 0;
    std::string bad;
    bool too_big = false;
};

int check_entry_name(const char* root, const git_tree_entry* e, void* payload) {
    auto* w = static_cast<NameWalk*>(payload);
    const char* name = git_tree_entry_name(e);
    if (std::string why = tree_entry_name_problem(name); !why.empty()) {
        w->bad = "an entry '" + escape_untrusted(std::string(root) + name) + "' (" + why + ")";
        return -1;
    }
    // Each entry costs at least a disk block, as on disk: a tree of many
    // empty files, or one subtree named again and again (a few bytes of pack
    // each), costs what it would take to write.
    size_t len = 0;
    git_object_t type;
    if (git_tree_entry_type(e) == GIT_OBJECT_BLOB && git_odb_read_header(&len, &type, w->odb, git_tree_entry_id(e)) < 0) return -1;
    w->bytes += std::max<uint64_t>(len, kBlockBytes);
    if (w->bytes <= w->max_bytes) return 0;
    w->too_big = true;
    return -1;
}

}  // namespace

Result<size_t> GitRepo::checkout(const std::string& hex, const std::string& dir, uint64_t max_bytes, const std::string& base_oid,
                                 const std::string& base_dir) {
    GitTreePtr tree = commit_tree(repo_.get(), hex);
    if (!tree) return Error{-ENOENT, last_error(("commit " + hex + " is not in the repository").c_str())};
    git_odb* raw_odb = nullptr;
    if (int rc = git_repository_odb(&raw_odb, repo_.get()); rc < 0) return git_failure(rc, "cannot open the object database");
    GitOdbPtr odb(raw_odb);
    NameWalk names{odb.get(), max_bytes, 0, {}, false};
    if (git_tree_walk(tree.get(), GIT_TREEWALK_PRE, check_entry_name, &names) < 0) {
        if (names.too_big)
            return Error{-EFBIG, fmt::format("the commit's files add up to more than {} (limits release); nothing was checked out; raise "
                                             "[limits] release if the app is meant to be that large",
                                             format_size(max_bytes))};
        return Error{-EINVAL, names.bad.empty() ? last_error("cannot read the commit's tree")
                                                : "the commit's tree holds " + names.bad + ", which a release may not; nothing was checked out"};
    }
    git_checkout_options opts = GIT_CHECKOUT_OPTIONS_INIT;
    opts.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX;
    opts.target_directory = dir.c_str();
    // Creating a file costs tens of times more than linking one, and a
    // deploy usually changes a few files of many.
    GitTreePtr base = base_oid.empty() ? nullptr : commit_tree(repo_.get(), base_oid);
    std::optional<std::unordered_set<std::string>> changed;
    if (base) changed = changed_paths(repo_.get(), base.get(), tree.get());
    std::vector<char*> paths;
    LinkWalk walk{changed ? &*changed : nullptr, {}, base_dir, dir};
    if (changed && ::mkdir(dir.c_str(), 0755) == 0) {
        if (git_tree_walk(tree.get(), GIT_TREEWALK_PRE, link_entry, &walk) < 0 || walk.error)
            return errno_error(walk.error ? walk.error : EIO, "cannot link files of " + base_dir + " into " + dir);
        if (walk.to_write.empty()) return walk.linked;  // an empty array would mean every path to libgit2
        for (auto& p : walk.to_write) paths.push_back(p.data());
        opts.paths = {paths.data(), paths.size()};
        opts.checkout_strategy |= GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
    }
    if (int rc = git_checkout_tree(repo_.get(), reinterpret_cast<const git_object*>(tree.get()), &opts); rc < 0)
        return git_failure(rc, "checkout into " + dir + " failed");
    return walk.linked;
}

namespace {

bool parse_oid(git_oid& oid, const std::string& hex) { return hex.size() == GIT_OID_HEXSZ && git_oid_fromstr(&oid, hex.c_str()) == 0; }

}  // namespace

bool GitRepo::has_object(const std::string& hex) {
    git_oid oid;
    git_odb* raw = nullptr;
    if (!repo_ || !parse_oid(oid, hex) || git_repository_odb(&raw, repo_.get()) < 0) return false;
    GitOdbPtr odb(raw);
    return git_odb_exists(odb.get(), &oid) == 1;
}

Result<SignedPayload> GitRepo::commit_signature(const std::string& hex) {
    git_oid oid;
    if (!repo_ || !parse_oid(oid, hex) || resolve_commit(hex) != hex) return Error{-ENOENT, "commit " + hex + " is not in the repository"};
    git_buf sig = GIT_BUF_INIT, data = GIT_BUF_INIT;
    int rc = git_commit_extract_signature(&sig, &data, repo_.get(), &oid, nullptr);
    SignedPayload out;
    if (rc == 0) out = {std::string(data.ptr, data.size), std::string(sig.ptr, sig.size)};
    git_buf_dispose(&sig);
    git_buf_dispose(&data);
    if (rc < 0 && rc != GIT_ENOTFOUND) return git_failure(rc, "cannot read the signature of commit " + hex);
    return out;
}

Result<std::string> GitRepo::tag_object(const std::string& hex, const std::string& commit) {
    git_oid oid;
    git_odb* raw_odb = nullptr;
    if (!repo_ || !parse_oid(oid, hex)) return Error{-ENOENT, "tag object " + hex + " is not in the repository"};
    if (int rc = git_repository_odb(&raw_odb, repo_.get()); rc < 0) return git_failure(rc, "cannot open the object database");
    GitOdbPtr odb(raw_odb);
    git_odb_object* raw_obj = nullptr;
    if (git_odb_read(&raw_obj, odb.get(), &oid) < 0) return Error{-ENOENT, "tag object " + hex + " is not in the repository"};
    GitOdbObjectPtr obj(raw_obj);
    if (git_odb_object_type(obj.get()) != GIT_OBJECT_TAG) return Error{-EMEDIUMTYPE, "a lightweight tag (no tag object to carry a signature)"};
    git_tag* raw_tag = nullptr;
    if (int rc = git_tag_lookup(&raw_tag, repo_.get(), &oid); rc < 0) return git_failure(rc, "cannot read tag object " + hex);
    GitTagPtr tag(raw_tag);
    if (git_tag_target_type(tag.get()) != GIT_OBJECT_COMMIT || git_oid_tostr_s(git_tag_target_id(tag.get())) != commit)
        return Error{-EXDEV, "the tag object does not tag commit " + commit + " directly"};
    return std::string(static_cast<const char*>(git_odb_object_data(obj.get())), git_odb_object_size(obj.get()));
}

Result<bool> GitRepo::descends_from(const std::string& commit, const std::string& ancestor) {
    git_oid c, a;
    if (!repo_ || !parse_oid(c, commit) || !parse_oid(a, ancestor)) return Error{-EINVAL, "not a commit id"};
    if (git_oid_equal(&c, &a)) return true;
    int rc = git_graph_descendant_of(repo_.get(), &c, &a);
    if (rc < 0) return git_failure(rc, "cannot tell whether " + commit + " descends from " + ancestor);
    return rc == 1;
}

}  // namespace huddle::sys
