#include "catch.hpp"
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "sys/fs.hpp"

using huddle::sys::unsafe_permissions;

namespace {
struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/huddle-perm.XXXXXX";
        path = ::mkdtemp(tmpl);
        ::chmod(path.c_str(), 0755);
    }
    ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
    std::string file(const std::string& name, mode_t mode) const {
        std::string p = path + "/" + name;
        std::ofstream(p) << "[repository]\n";
        ::chmod(p.c_str(), mode);
        return p;
    }
};
}  // namespace

TEST_CASE("permissions: configs only root can change") {
    TempDir d;
    CHECK(unsafe_permissions(d.file("ok.ini", 0644)) == "");
    CHECK(unsafe_permissions(d.file("ro.ini", 0400)) == "");
    std::string g = unsafe_permissions(d.file("g.ini", 0664));
    CHECK(g.find("writable by its group (mode 0664)") != std::string::npos);
    CHECK(g.find("chmod go-w " + d.path + "/g.ini") != std::string::npos);
    CHECK(unsafe_permissions(d.file("o.ini", 0646)).find("writable by every user") != std::string::npos);

    // The directory: whoever can write it can replace the file.
    TempDir open;
    std::string inside = open.file("app.ini", 0644);
    ::chmod(open.path.c_str(), 01777);
    std::string why = unsafe_permissions(inside);
    CHECK(why.find("its directory " + open.path + " is writable by every user") != std::string::npos);

    // Through a symlink, the target and its directory count.
    std::string link = d.path + "/linked.ini";
    REQUIRE(::symlink(inside.c_str(), link.c_str()) == 0);
    why = unsafe_permissions(link);
    CHECK(why.rfind("through a symlink, its directory " + open.path, 0) == 0);
    ::chmod(open.path.c_str(), 0755);
    CHECK(unsafe_permissions(link) == "");
    ::chmod(inside.c_str(), 0666);
    CHECK(unsafe_permissions(link).rfind("through a symlink, " + inside + " is writable by every user", 0) == 0);

    if (::geteuid() == 0) {  // only root can give a file away
        std::string other = d.file("other.ini", 0644);
        REQUIRE(::chown(other.c_str(), 4321, 4321) == 0);
        CHECK(unsafe_permissions(other).find("owned by uid 4321, not root; fix: chown root: " + other) != std::string::npos);
    }
}

TEST_CASE("permissions: credentials are not readable by others") {
    TempDir d;
    CHECK(unsafe_permissions(d.file("key", 0600), true) == "");
    CHECK(unsafe_permissions(d.file("k2", 0640), true).find("readable by its group (mode 0640); fix: chmod 0600") != std::string::npos);
    CHECK(unsafe_permissions(d.file("k3", 0644), true).find("readable by every user") != std::string::npos);
    // A config may be world-readable.
    CHECK(unsafe_permissions(d.file("k4", 0644), false) == "");
}

TEST_CASE("permissions: every directory above a config, and above a symlink's target, counts") {
    TempDir d;
    // /etc/huddle/app.ini -> D/open/inner/app.ini, with D/open writable by
    // all: anyone can swap inner/ for a directory of their own.
    std::string open = d.path + "/open", inner = open + "/inner";
    REQUIRE(::mkdir(open.c_str(), 0777) == 0);
    ::chmod(open.c_str(), 0777);
    REQUIRE(::mkdir(inner.c_str(), 0755) == 0);
    std::ofstream(inner + "/app.ini") << "[repository]\n";
    CHECK(unsafe_permissions(inner + "/app.ini").find("its directory " + open + " is writable by every user") != std::string::npos);
    std::string link = d.path + "/app.ini";
    REQUIRE(::symlink((inner + "/app.ini").c_str(), link.c_str()) == 0);
    CHECK(unsafe_permissions(link).rfind("through a symlink, its directory " + open, 0) == 0);
    // Sticky, as /tmp is, above the config's own directory: others cannot
    // replace root's entries there.
    ::chmod(open.c_str(), 01777);
    CHECK(unsafe_permissions(link) == "");
}
