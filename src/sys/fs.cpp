#include "fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace huddle::sys {

namespace {
struct FdCloser {
    void operator()(int* fd) const {
        if (*fd >= 0) ::close(*fd);
        delete fd;
    }
};
using UniqueFd = std::unique_ptr<int, FdCloser>;

struct DirCloser {
    void operator()(DIR* d) const { ::closedir(d); }
};
}  // namespace

ReadResult read_file(const std::string& path, size_t max_bytes) {
    UniqueFd fd(new int(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY)));
    if (*fd < 0) return {std::nullopt, path + ": cannot open: " + std::strerror(errno)};
    struct stat st {};
    if (::fstat(*fd, &st) < 0) return {std::nullopt, path + ": cannot stat: " + std::strerror(errno)};
    if (!S_ISREG(st.st_mode)) return {std::nullopt, path + ": not a regular file"};
    if (static_cast<size_t>(st.st_size) > max_bytes)
        return {std::nullopt, path + ": file is " + std::to_string(st.st_size) + " bytes, more than a config may be (" + std::to_string(max_bytes) + ")"};
    std::string text;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(*fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            return {std::nullopt, path + ": read error: " + std::strerror(errno)};
        }
        if (n == 0) break;
        text.append(buf, static_cast<size_t>(n));
        if (text.size() > max_bytes) return {std::nullopt, path + ": file grew beyond " + std::to_string(max_bytes) + " bytes while reading"};
    }
    return {std::move(text), ""};
}

DirListing list_dir(const std::string& dir) {
    DirListing l{dir, {}};
    std::unique_ptr<DIR, DirCloser> d(::opendir(dir.c_str()));
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
    ReadResult r = read_file("/etc/machine-id", 4096);
    if (!r.text) return "";
    std::string s = *r.text;
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace huddle::sys
