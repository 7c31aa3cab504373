#include "release.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
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
    if (::fchown(fd.get(), uid, gid) < 0 || ::fchmod(fd.get(), mode) < 0) return errno_error(errno, "cannot set the owner and mode of " + path);
    return {};
}

namespace {
thread_local unsigned t_uid, t_gid;
thread_local bool t_ro;
thread_local int t_err;
int chown_one(const char* p, const struct stat* st, int, struct FTW*) {
    if (::lchown(p, t_uid, t_gid) < 0) t_err = errno;
    if (t_ro && !S_ISLNK(st->st_mode) && ::chmod(p, (st->st_mode & ~static_cast<mode_t>(S_IWUSR | S_IWGRP | S_IWOTH)) | (t_uid == 0 ? S_IWUSR : 0)) < 0)
        t_err = errno;
    return 0;
}
int remove_one(const char* p, const struct stat*, int type, struct FTW*) {
    return type == FTW_DP ? ::rmdir(p) : ::unlink(p);
}
}  // namespace

Status chown_tree(const std::string& path, unsigned uid, unsigned gid, bool read_only) {
    t_uid = uid;
    t_gid = gid;
    t_ro = read_only;
    t_err = 0;
    nftw(path.c_str(), chown_one, 64, FTW_PHYS);
    if (t_err) return errno_error(t_err, "cannot set ownership under " + path);
    return {};
}

Status remove_tree(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) < 0 && errno == ENOENT) return {};
    if (nftw(path.c_str(), remove_one, 64, FTW_DEPTH | FTW_PHYS) != 0) return errno_error(errno, "cannot remove " + path);
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
