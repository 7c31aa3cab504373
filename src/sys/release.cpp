#include "release.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace huddle::sys {

std::string state_dir() {
    const char* base = std::getenv("HUDDLE_STATE_DIR");
    return base && *base ? base : "/var/lib/huddle";
}

std::string app_dir(const std::string& app) { return state_dir() + "/" + app; }

static std::string parent_of(const std::string& p) {
    size_t s = p.rfind('/');
    return s == 0 ? "/" : s == std::string::npos ? "." : p.substr(0, s);
}

// A rename is durable once its directory is synced.
static void fsync_dir(const std::string& dir) {
    UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd) ::fsync(dfd.get());
}

static Status write_all(int fd, const std::string& content, const std::string& name) {
    size_t off = 0;
    while (off < content.size()) {
        ssize_t n = ::write(fd, content.data() + off, content.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error(errno, name);
        }
        off += static_cast<size_t>(n);
    }
    if (::fsync(fd) < 0) return errno_error(errno, name);
    return {};
}

// The temporary is made anew in the directory, never opened through what is
// there: whatever sits at its name (a stale temporary, or a symlink planted
// to make root write elsewhere) is unlinked, not followed, and O_EXCL |
// O_NOFOLLOW refuse anything put back in between.
Status write_file_atomic(const std::string& path, const std::string& content, unsigned mode) {
    std::string dir = parent_of(path), name = path.substr(path.rfind('/') + 1), tmp_name = name + ".tmp-huddle", tmp = path + ".tmp-huddle";
    UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dfd) return errno_error(errno, dir);
    if (::unlinkat(dfd.get(), tmp_name.c_str(), 0) < 0 && errno != ENOENT) return errno_error(errno, "cannot remove " + tmp);
    UniqueFd fd(::openat(dfd.get(), tmp_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!fd) return errno_error(errno, tmp);
    Status st = write_all(fd.get(), content, tmp);
    if (st && fd.close() < 0) st = errno_error(errno, tmp);
    if (st && ::renameat(dfd.get(), tmp_name.c_str(), dfd.get(), name.c_str()) < 0) st = errno_error(errno, path);
    if (!st) {
        ::unlinkat(dfd.get(), tmp_name.c_str(), 0);  // what is half written is nobody's
        return st;
    }
    ::fsync(dfd.get());  // the rename is durable once its directory is synced
    return {};
}

LinkState inspect_link(const std::string& link, const std::string& releases_dir, std::string& target) {
    struct stat st {};
    if (::lstat(link.c_str(), &st) < 0) return LinkState::missing;
    if (!S_ISLNK(st.st_mode)) return LinkState::foreign;
    char buf[4096];
    ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
    if (n < 0) return LinkState::foreign;
    target.assign(buf, static_cast<size_t>(n));
    return target.rfind(releases_dir + "/", 0) == 0 ? LinkState::ours : LinkState::foreign;
}

Status switch_link(const std::string& link, const std::string& target) {
    std::string tmp = link + ".tmp-huddle";
    ::unlink(tmp.c_str());
    if (::symlink(target.c_str(), tmp.c_str()) < 0 || ::rename(tmp.c_str(), link.c_str()) < 0) {
        Error e = errno_error(errno, "cannot point " + link + " at " + target);
        ::unlink(tmp.c_str());
        return e;
    }
    fsync_dir(parent_of(link));
    return {};
}

Status mkdir_p(const std::string& path, unsigned mode) {
    std::string cur;
    size_t pos = 0;
    while (pos != std::string::npos) {
        pos = path.find('/', pos + 1);
        cur = path.substr(0, pos);
        if (cur.empty()) continue;
        if (::mkdir(cur.c_str(), mode) < 0 && errno != EEXIST) return errno_error(errno, "cannot create " + cur);
    }
    return {};
}

Status own_dir(const std::string& path, unsigned uid, unsigned gid, unsigned mode) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return errno_error(errno, "cannot open the directory " + path);
    // Only what differs: a poll that finds nothing to do writes nothing,
    // not even an inode's change time.
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0) return errno_error(errno, "cannot read " + path);
    if ((st.st_uid != uid || st.st_gid != gid) && ::fchown(fd.get(), uid, gid) < 0) return errno_error(errno, "cannot set the owner of " + path);
    if ((st.st_mode & 07777) != mode && ::fchmod(fd.get(), mode) < 0) return errno_error(errno, "cannot set the mode of " + path);
    return {};
}

DirPtr dir_stream(int dfd) {
    int copy = ::fcntl(dfd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) return nullptr;
    DirPtr d{::fdopendir(copy)};
    if (!d) {
        int e = errno;
        ::close(copy);
        errno = e;
        return nullptr;
    }
    ::rewinddir(d.get());
    return d;
}

// The tree walks below go from directory fd to directory fd, opening each
// entry with O_NOFOLLOW relative to its parent: a process of the app's user
// that swaps a directory for a symlink while root walks makes root fail on
// that entry (ELOOP, ENOTDIR), never change or remove what the link points
// at. Modes and owners are set through an fd of the entry itself.
namespace {

constexpr int kMaxDepth = 256;  // deeper than any checkout: a tree being grown under the walk

struct ChownWalk {
    unsigned uid, gid;
    bool read_only;
    bool drop_special;
    int err = 0;
};

// Read-only: no write bit but root's. Taken back by root: no set-id bit
// either, which a step could have set on a file of its own.
mode_t finished_mode(const ChownWalk& w, mode_t mode) {
    if (w.uid == 0) mode &= ~static_cast<mode_t>(S_ISUID | S_ISGID);
    if (w.uid == 0 && w.drop_special) mode &= ~static_cast<mode_t>(S_IWGRP | S_IWOTH);  // a repository taken back: root's to write alone
    return w.read_only ? (mode & ~static_cast<mode_t>(S_IWUSR | S_IWGRP | S_IWOTH)) | (w.uid == 0 ? S_IWUSR : 0) : mode;
}

// A regular file with other hard links was linked in by a step (a checkout
// makes none where steps run): taking it over would take an inode that is
// also somewhere else, in the app's data or another's file. It is replaced
// by a copy of its own, made in the directory (root's by now), with MODE.
int unshare_file(int dfd, const char* name, int fd, mode_t mode) {
    const char* tmp = ".huddle-unshare.tmp";
    (void)::unlinkat(dfd, tmp, 0);
    UniqueFd copy(::openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!copy) return errno;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        if (n == 0) break;
        for (ssize_t off = 0; off < n;) {
            ssize_t m = ::write(copy.get(), buf + off, static_cast<size_t>(n - off));
            if (m < 0 && errno == EINTR) continue;
            if (m < 0) return errno;
            off += m;
        }
    }
    if (::fchmod(copy.get(), mode) < 0) return errno;
    if (copy.close() < 0) return errno;
    return ::renameat(dfd, tmp, dfd, name) == 0 ? 0 : errno;
}

void chown_dir(int dfd, ChownWalk& w, int depth);

void set_owner_mode(int fd, const struct stat& st, ChownWalk& w) {
    if (::fchown(fd, w.uid, w.gid) < 0 || ::fchmod(fd, finished_mode(w, st.st_mode & 07777)) < 0) w.err = errno;
}

void chown_entry(int dfd, const char* name, ChownWalk& w, int depth) {
    struct stat st {};
    if (::fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        w.err = errno;
        return;
    }
    if (w.drop_special && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        if (::unlinkat(dfd, name, 0) < 0) w.err = errno;
        return;
    }
    if (S_ISLNK(st.st_mode) || S_ISSOCK(st.st_mode)) {  // the link itself; a socket cannot be opened
        if (::fchownat(dfd, name, w.uid, w.gid, AT_SYMLINK_NOFOLLOW) < 0) w.err = errno;
        return;
    }
    int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0);
    UniqueFd fd(::openat(dfd, name, flags));
    if (!fd) {
        w.err = errno;  // swapped under the walk: ELOOP, ENOTDIR
        return;
    }
    if (::fstat(fd.get(), &st) < 0) {
        w.err = errno;
        return;
    }
    if (w.drop_special && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {  // swapped in after the fstatat
        if (::unlinkat(dfd, name, 0) < 0) w.err = errno;
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (w.uid == 0 && w.drop_special && S_ISREG(st.st_mode) && st.st_nlink > 1) {  // no fetch links: a file from elsewhere
            if (::unlinkat(dfd, name, 0) < 0) w.err = errno;
            return;
        }
        if (w.uid == 0 && S_ISREG(st.st_mode) && st.st_nlink > 1) {
            if (int e = unshare_file(dfd, name, fd.get(), finished_mode(w, st.st_mode & 07777))) w.err = e;
            return;  // the copy is root's (it made it), with the finished mode
        }
        set_owner_mode(fd.get(), st, w);
        return;
    }
    // Taking a tree back, a directory is root's before it is listed: a
    // process of the app's user holding an fd of it can then no longer add
    // or rename entries behind the walk. Handing a tree over, the contents
    // go first and the directory last, so that it is not the user's early.
    if (w.uid == 0) set_owner_mode(fd.get(), st, w);
    chown_dir(fd.get(), w, depth + 1);
    if (w.uid != 0) set_owner_mode(fd.get(), st, w);
}

void chown_dir(int dfd, ChownWalk& w, int depth) {
    if (depth > kMaxDepth) {
        w.err = ELOOP;
        return;
    }
    DirPtr d = dir_stream(dfd);
    if (!d) {
        w.err = errno;
        return;
    }
    while (struct dirent* e = ::readdir(d.get())) {
        if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
        chown_entry(dfd, e->d_name, w, depth);
    }
}

// Removal: each directory's names are read and its stream closed before
// going down, so a level costs one fd. A tree deeper than kMaxDepth (a step
// can make one at no cost) is not an error: what lies below the limit is
// moved up to the top of the tree being removed, and removed in a later
// round (remove_tree).
struct RemoveWalk {
    int top;
    unsigned hoisted = 0;
};

int remove_dir_contents(int dfd, RemoveWalk& w, int depth);

int remove_entry(int dfd, const char* name, RemoveWalk& w, int depth) {
    if (::unlinkat(dfd, name, 0) == 0) return 0;
    if (errno != EISDIR && errno != EPERM) return errno;  // Linux says EISDIR for a directory
    if (depth >= kMaxDepth) {
        std::string up = ".huddle-deep-" + std::to_string(w.hoisted++);
        return ::renameat(dfd, name, w.top, up.c_str()) == 0 ? 0 : errno;
    }
    UniqueFd sub(::openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) return errno;
    if (int e = remove_dir_contents(sub.get(), w, depth + 1)) return e;
    return ::unlinkat(dfd, name, AT_REMOVEDIR) == 0 ? 0 : errno;
}

int remove_dir_contents(int dfd, RemoveWalk& w, int depth) {
    std::vector<std::string> names;
    {
        DirPtr d = dir_stream(dfd);  // rewound: an earlier round read DFD to its end
        if (!d) return errno;
        while (struct dirent* e = ::readdir(d.get()))
            if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
    }
    int first = 0;
    for (const auto& n : names)
        if (int e = remove_entry(dfd, n.c_str(), w, depth); e && !first) first = e;
    return first;
}

// The parent's fd and the last component of PATH, the parent opened as a
// directory and not through a symlink at its last step.
Result<std::pair<UniqueFd, std::string>> open_parent(const std::string& path) {
    size_t slash = path.rfind('/');
    std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    UniqueFd fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return errno_error(errno, "cannot open " + parent);
    return std::pair{std::move(fd), name};
}

// Before root takes back or removes a tree the app's user could write: its
// top made root's and 0700, so that the user can no longer reach into it by
// path and move things while root walks (the walk would be safe, but fail).
void shut_top(int parent, const char* name) {
    UniqueFd fd(::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd && ::fchown(fd.get(), 0, 0) == 0) (void)::fchmod(fd.get(), 0700);
}

}  // namespace

namespace {
int add_sizes(int dfd, uint64_t& total, int depth) {
    if (depth > kMaxDepth) return ELOOP;
    DirPtr d = dir_stream(dfd);
    if (!d) return errno;
    while (struct dirent* e = ::readdir(d.get())) {
        if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
        struct stat st {};
        if (::fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) return errno;
        total += std::max<uint64_t>(4096, static_cast<uint64_t>(st.st_blocks) * 512);
        if (!S_ISDIR(st.st_mode)) continue;
        UniqueFd sub(::openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub) return errno;
        if (int err = add_sizes(sub.get(), total, depth + 1)) return err;
    }
    return 0;
}
}  // namespace

Result<uint64_t> tree_size(const std::string& path) {
    UniqueFd top(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!top) return errno_error(errno, "cannot open " + path);
    uint64_t total = 4096;
    if (int e = add_sizes(top.get(), total, 0)) return errno_error(e, "cannot measure " + path);
    return total;
}

Status chown_tree(const std::string& path, unsigned uid, unsigned gid, bool read_only, bool drop_special) {
    auto p = open_parent(path);
    if (!p) return p.error();
    struct stat top {};
    bool shut = uid == 0 && ::fstatat(p->first.get(), p->second.c_str(), &top, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(top.st_mode);
    if (shut) shut_top(p->first.get(), p->second.c_str());
    ChownWalk w{uid, gid, read_only, drop_special};
    chown_entry(p->first.get(), p->second.c_str(), w, 0);
    if (shut) {  // the walk saw the top shut: its own mode, finished, from before
        UniqueFd fd(::openat(p->first.get(), p->second.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd || ::fchmod(fd.get(), finished_mode(w, top.st_mode & 07777)) < 0) w.err = errno;
    }
    if (w.err) return errno_error(w.err, "cannot set ownership under " + path);
    return {};
}

Status remove_tree(const std::string& path) {
    auto p = open_parent(path);
    if (!p) return p.error().code == -ENOENT ? Status{} : Status{p.error()};
    struct stat st {};
    if (::fstatat(p->first.get(), p->second.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) return {};
    if (!S_ISDIR(st.st_mode)) return ::unlinkat(p->first.get(), p->second.c_str(), 0) == 0 ? Status{} : errno_error(errno, "cannot remove " + path);
    shut_top(p->first.get(), p->second.c_str());
    UniqueFd top(::openat(p->first.get(), p->second.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!top) return errno_error(errno, "cannot remove " + path);
    RemoveWalk w{top.get()};
    int e = 0;
    // Each round removes kMaxDepth levels of a deeper tree; 64 rounds is
    // deeper than the kernel lets anything be made in reasonable time.
    for (int round = 0; round < 64; ++round) {
        unsigned before = w.hoisted;
        e = remove_dir_contents(top.get(), w, 1);
        if (e || w.hoisted == before) break;
    }
    if (!e && ::unlinkat(p->first.get(), p->second.c_str(), AT_REMOVEDIR) < 0) e = errno;
    if (e) return errno_error(e, "cannot remove " + path);
    return {};
}

Result<std::unique_ptr<AppLock>> AppLock::try_acquire(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) return errno_error(errno, path);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK) return Error{-EWOULDBLOCK, "another deploy cycle of this app is running"};
        return errno_error(errno, "cannot lock " + path);
    }
    return std::unique_ptr<AppLock>(new AppLock(std::move(fd)));
}

std::vector<std::string> releases_to_prune(const std::string& releases_dir, const std::vector<std::string>& keep_always, unsigned keep) {
    std::vector<std::pair<time_t, std::string>> found;
    if (DirPtr d{::opendir(releases_dir.c_str())}) {
        while (struct dirent* e = ::readdir(d.get())) {
            std::string n = e->d_name;
            if (n == "." || n == "..") continue;
            struct stat st {};
            if (::lstat((releases_dir + "/" + n).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) found.emplace_back(st.st_mtime, n);
        }
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });  // newest first
    std::vector<std::string> out;
    unsigned kept = 0;
    for (const auto& [t, n] : found) {
        bool pinned = std::find(keep_always.begin(), keep_always.end(), n) != keep_always.end();
        if (pinned || (kept < keep && n.find(".tmp") == std::string::npos)) {
            kept++;
            continue;
        }
        out.push_back(n);
    }
    return out;
}

}  // namespace huddle::sys
