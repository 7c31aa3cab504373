#include "fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "handles.hpp"

namespace huddle::sys {

Error errno_error(int err, const std::string& context) {
    err = err < 0 ? -err : err;
    return {-err, context + ": " + std::strerror(err)};
}

Result<std::string> read_file(const std::string& path, size_t max_bytes) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd) return errno_error(errno, path + ": cannot open");
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0) return errno_error(errno, path + ": cannot stat");
    if (!S_ISREG(st.st_mode)) return Error{-EINVAL, path + ": not a regular file"};
    if (static_cast<size_t>(st.st_size) > max_bytes)
        return Error{-EFBIG, path + ": file is " + std::to_string(st.st_size) + " bytes, more than a config may be (" + std::to_string(max_bytes) + ")"};
    std::string text;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error(errno, path + ": read error");
        }
        if (n == 0) break;
        text.append(buf, static_cast<size_t>(n));
        if (text.size() > max_bytes) return Error{-EFBIG, path + ": file grew beyond " + std::to_string(max_bytes) + " bytes while reading"};
    }
    return text;
}

DirListing list_dir(const std::string& dir) {
    DirListing l{dir, {}};
    DirPtr d(::opendir(dir.c_str()));
    if (!d) return l;
    while (struct dirent* de = ::readdir(d.get())) {
        std::string name = de->d_name;
        if (name == "." || name == "..") continue;
        std::string full = dir + "/" + name;
        struct stat st {};
        DirEntry e{name, false, false};
        if (::stat(full.c_str(), &st) == 0) {
            e.regular = S_ISREG(st.st_mode) || S_ISCHR(st.st_mode);
            // systemd's masking: a link to /dev/null, or an empty file.
            e.masked = S_ISCHR(st.st_mode) || (S_ISREG(st.st_mode) && st.st_size == 0);
        } else {
            e.regular = true;  // a dangling link: let the read report it
        }
        l.entries.push_back(e);
    }
    std::sort(l.entries.begin(), l.entries.end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
    return l;
}

std::string machine_id() {
    auto r = read_file("/etc/machine-id", 4096);
    if (!r) return "";
    std::string s = *r;
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

namespace {

std::string octal_mode(mode_t m) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
    return buf;
}

// One path, already resolved: "" or the problem with its fix.
std::string check_one(const std::string& path, bool dir, bool secret) {
    struct stat st {};
    if (::stat(path.c_str(), &st) < 0) return "";  // reading it will report the error
    uid_t me = ::geteuid();
    std::string what = (dir ? "its directory " : "") + path;
    if (st.st_uid != 0 && st.st_uid != me)
        return what + " is owned by uid " + std::to_string(st.st_uid) + ", not root; fix: chown root: " + path;
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return what + " is writable by " + ((st.st_mode & S_IWOTH) ? "every user" : "its group") + " (mode " + octal_mode(st.st_mode) +
               "); fix: chmod go-w " + path;
    if (secret && !dir && (st.st_mode & (S_IRGRP | S_IROTH)))
        return what + " is readable by " + ((st.st_mode & S_IROTH) ? "every user" : "its group") + " (mode " + octal_mode(st.st_mode) +
               "); fix: chmod 0600 " + path;
    return "";
}

std::string dir_of(const std::string& p) {
    size_t slash = p.rfind('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : p.substr(0, slash);
}

// Every directory from DIR up to "/": whoever can write one of them can
// replace what lies below it. Above DIR itself a sticky directory (/tmp)
// passes: others can add names there but not replace root's. DIR itself
// must be root's alone (others could add files beside the config).
std::string check_ancestors(std::string dir) {
    for (bool first = true;; first = false) {
        struct stat st {};
        bool sticky = !first && ::stat(dir.c_str(), &st) == 0 && (st.st_mode & S_ISVTX) && (st.st_uid == 0 || st.st_uid == ::geteuid());
        if (!sticky)
            if (std::string why = check_one(dir, true, false); !why.empty()) return why;
        if (dir == "/" || dir == ".") return "";
        dir = dir_of(dir);
    }
}

}  // namespace

std::string unsafe_permissions(const std::string& path, bool secret) {
    // huddle runs what a config says as root: whoever can change the file,
    // or replace it through any directory above it, can run commands as root.
    std::string why = check_ancestors(dir_of(path));
    if (!why.empty()) return why;
    std::unique_ptr<char, decltype(&std::free)> real(::realpath(path.c_str(), nullptr), &std::free);
    if (!real) return "";
    std::string target = real.get();
    if (target != path && dir_of(target) != dir_of(path)) {
        why = check_ancestors(dir_of(target));
        if (!why.empty()) return "through a symlink, " + why;
    }
    why = check_one(target, false, secret);
    if (!why.empty() && target != path) return "through a symlink, " + why;
    return why;
}

}  // namespace huddle::sys
