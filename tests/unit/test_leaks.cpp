// File descriptors and temporary files around the failing paths: what a
// long-running fleet machine would accumulate poll after poll.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "catch.hpp"
#include "shell.hpp"
#include "sys/git.hpp"
#include "sys/process.hpp"
#include "sys/stepscope.hpp"
#include "sys/release.hpp"
#include "sys/watchdog.hpp"

using namespace huddle;

namespace {
int open_fds() {
    int n = 0;
    DIR* d = ::opendir("/proc/self/fd");
    while (struct dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') n++;
    ::closedir(d);
    return n - 1;  // the listing's own
}
struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/huddle-leaks.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};
}  // namespace

TEST_CASE("leaks: a step whose program is not in PATH, or whose user is unknown, leaves no fd open", "[leaks]") {
    int before = open_fds();
    for (int i = 0; i < 20; ++i) {
        auto r = sys::run_process({{"no-such-program-huddle"}, "", "", "/", {"PATH=/nonexistent"}, 0, ""}, [](const std::string&) {});
        REQUIRE_FALSE(r);
        CHECK(r.error().code == -ENOENT);
        CHECK(r.error().message == "'no-such-program-huddle' is not in PATH; give its full path");
        auto u = sys::run_process({{"/bin/true"}, "no-such-user-huddle", "", "/", {}, 0, ""}, [](const std::string&) {});
        REQUIRE_FALSE(u);
    }
    CHECK(open_fds() == before);
}

TEST_CASE("leaks: a step that runs, fails or times out leaves no fd open", "[leaks]") {
    int before = open_fds();
    std::string out;
    auto ok = sys::run_process({{"/bin/sh", "-c", "echo hi; exit 3"}, "", "", "/", {}, 0, ""}, [&](const std::string& l) { out += l; });
    REQUIRE(ok);
    CHECK(ok->exit_code == 3);
    CHECK(out == "hi");
    auto slow = sys::run_process({{"/bin/sleep", "5"}, "", "", "/", {}, 200000, ""}, [](const std::string&) {});
    REQUIRE(slow);
    CHECK(slow->timed_out);
    CHECK(open_fds() == before);
}

TEST_CASE("leaks: a failed atomic write removes its temporary and keeps the old file", "[leaks]") {
    TempDir d;
    std::string target = d.path + "/state.json";
    REQUIRE(::mkdir(target.c_str(), 0755) == 0);  // rename(2) over a directory fails
    int before = open_fds();
    sys::Status st = sys::write_file_atomic(target, "{}", 0644);
    REQUIRE_FALSE(st);
    CHECK(st.error().code == -EISDIR);
    CHECK(::access((target + ".tmp-huddle").c_str(), F_OK) != 0);
    CHECK(open_fds() == before);
    std::string file = d.path + "/release.env";
    REQUIRE(sys::write_file_atomic(file, "A=1\n", 0644));
    REQUIRE(::chmod(d.path.c_str(), 0555) == 0);
    if (::geteuid() != 0) {  // root writes anyway: the check is for others
        CHECK_FALSE(sys::write_file_atomic(file, "A=2\n", 0644));
    }
    ::chmod(d.path.c_str(), 0755);
}

TEST_CASE("atomic write: a symlink planted at the temporary's name is removed, not written through", "[leaks]") {
    TempDir d;
    std::string victim = d.path + "/victim", file = d.path + "/release.env";
    {
        FILE* f = std::fopen(victim.c_str(), "w");
        REQUIRE(f);
        std::fputs("precious\n", f);
        std::fclose(f);
    }
    REQUIRE(::symlink(victim.c_str(), (file + ".tmp-huddle").c_str()) == 0);
    REQUIRE(sys::write_file_atomic(file, "A=1\n", 0644));
    struct stat st {};
    REQUIRE(::lstat(file.c_str(), &st) == 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK(::lstat((file + ".tmp-huddle").c_str(), &st) != 0);
    char buf[32] = {};
    FILE* f = std::fopen(victim.c_str(), "r");
    REQUIRE(f);
    CHECK(std::fread(buf, 1, sizeof buf - 1, f) == 9);
    std::fclose(f);
    CHECK(std::string(buf) == "precious\n");
}

TEST_CASE("leaks: a watchdog check that cannot connect closes its socket and says why", "[leaks]") {
    WatchdogConfig w;
    w.host = "localhost";  // ::1 and 127.0.0.1: each address is tried
    w.port = 1;            // nothing listens there
    w.response = "OK";
    int before = open_fds();
    for (int i = 0; i < 10; ++i) {
        sys::Status st = sys::watchdog_check(w);
        REQUIRE_FALSE(st);
        CHECK(st.error().code == -EIO);
        CHECK(st.error().message.rfind("watchdog: cannot connect to localhost:1: ", 0) == 0);
    }
    CHECK(open_fds() == before);
}

TEST_CASE("leaks: the app lock is released with its holder", "[leaks]") {
    TempDir d;
    int before = open_fds();
    {
        auto a = sys::AppLock::try_acquire(d.path + "/lock");
        REQUIRE(a);
        auto b = sys::AppLock::try_acquire(d.path + "/lock");
        REQUIRE_FALSE(b);
        CHECK(sys::is_lock_held(b.code()));
    }
    CHECK(open_fds() == before);
    CHECK(sys::AppLock::try_acquire(d.path + "/lock"));
}

namespace {
// Whether PID runs (not gone, not a zombie waiting for its new parent).
bool running(const std::string& pid) {
    std::ifstream f("/proc/" + pid + "/stat");
    std::string line;
    if (!std::getline(f, line)) return false;
    size_t paren = line.rfind(')');
    return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}
std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::string s;
    std::getline(f, s);
    return s;
}
}  // namespace

TEST_CASE("leaks: what a step leaves running is killed when the step ends", "[leaks]") {
    TempDir d;
    // One keeps the output pipe open (`cmd &`), one lets go of it and leaves
    // its own process group's leader behind; neither may outlive the step.
    for (const char* tail : {"&", ">/dev/null 2>&1 &"}) {
        std::string script = "sleep 60 " + std::string(tail) + " echo $! > " + d.path + "/pid; echo started";
        std::string out;
        auto r = sys::run_process({{"/bin/sh", "-c", script}, "", "", "/", {}, 30 * kUsecPerSec, ""}, [&](const std::string& l) { out += l; });
        REQUIRE(r);
        CHECK(r->ok());  // ended with its shell, not by the 30 s limit
        CHECK(out == "started");
        std::string pid = slurp(d.path + "/pid");
        REQUIRE(!pid.empty());
        for (int i = 0; i < 100 && running(pid); ++i) ::usleep(20000);
        CHECK_FALSE(running(pid));
    }
}

TEST_CASE("process: what a step leaves running, in its group or out of it with setsid, ends with the step", "[process]") {
    std::vector<std::string> pids;
    auto r = sys::run_process({{"/bin/sh", "-c", "sleep 300 & echo $!; setsid sh -c 'echo $$; exec sleep 301' < /dev/null & sleep 0.3"},
                               "", "", "/", {"PATH=/usr/bin:/bin"}, 0, ""},
                              [&](const std::string& l) { pids.push_back(l); });
    REQUIRE(r);
    REQUIRE(pids.size() == 2);
    for (const auto& p : pids) {
        INFO(p);
        pid_t pid = std::stoi(p);
        CHECK(::kill(pid, 0) < 0);  // gone, and reaped
        CHECK(errno == ESRCH);
    }
}

namespace {
std::string tmpdir() {
    char t[] = "/tmp/huddle-walk.XXXXXX";
    REQUIRE(::mkdtemp(t));
    return t;
}
mode_t mode_of(const std::string& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}
void make_file(const std::string& p, mode_t mode) {
    std::ofstream(p) << "x";
    REQUIRE(::chmod(p.c_str(), mode) == 0);
}
}  // namespace

TEST_CASE("release walks: a symlink in the tree is not followed by chown_tree or remove_tree", "[release]") {
    std::string d = tmpdir(), out = d + "/outside", t = d + "/tree";
    REQUIRE(::mkdir(out.c_str(), 0755) == 0);
    make_file(out + "/keep", 0666);
    REQUIRE(::mkdir(t.c_str(), 0755) == 0);
    REQUIRE(::mkdir((t + "/sub").c_str(), 0777) == 0);
    make_file(t + "/sub/f", 0666);
    REQUIRE(::symlink(out.c_str(), (t + "/link").c_str()) == 0);
    REQUIRE(::symlink((out + "/keep").c_str(), (t + "/sub/filelink").c_str()) == 0);
    REQUIRE(sys::chown_tree(t, ::getuid(), ::getgid(), true));
    CHECK(mode_of(t + "/sub/f") == 0444 + (::getuid() == 0 ? 0200 : 0));
    CHECK(mode_of(t + "/sub") == 0555 + (::getuid() == 0 ? 0200 : 0));
    CHECK(mode_of(out + "/keep") == 0666);
    CHECK(mode_of(t) == 0555 + (::getuid() == 0 ? 0200 : 0));  // the top keeps its own mode, finished
    REQUIRE(::chmod((t + "/sub").c_str(), 0755) == 0);
    REQUIRE(::chmod(t.c_str(), 0755) == 0);
    REQUIRE(sys::remove_tree(t));
    CHECK(::access(t.c_str(), F_OK) < 0);
    CHECK(::access((out + "/keep").c_str(), F_OK) == 0);
    CHECK(sys::remove_tree(t));  // missing: no error
    REQUIRE(sys::remove_tree(d));
}

// The attack of finding 1: while root walks the tree, a process of the app's
// user swaps a subdirectory for a symlink to a tree it does not own, over
// and over. Nothing out there may change mode, owner or existence.
TEST_CASE("release walks: a directory swapped for a symlink during the walk does not redirect it", "[release]") {
    std::string d = tmpdir(), out = d + "/outside", t = d + "/tree";
    REQUIRE(::mkdir(out.c_str(), 0755) == 0);
    for (int i = 0; i < 20; ++i) make_file(out + "/f" + std::to_string(i), 0666);
    auto build = [&] {
        REQUIRE(::mkdir(t.c_str(), 0755) == 0);
        REQUIRE(::mkdir((t + "/sub").c_str(), 0755) == 0);
        for (int i = 0; i < 20; ++i) make_file(t + "/sub/f" + std::to_string(i), 0666);
    };
    // A child loops: sub moved aside, a symlink to OUTSIDE in its place, back.
    auto start_swapper = [&] {
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            std::string sub = t + "/sub", aside = t + "/sub.aside";
            for (;;)
                if (::rename(sub.c_str(), aside.c_str()) == 0) {
                    (void)::symlink(out.c_str(), sub.c_str());
                    ::usleep(50);
                    (void)::unlink(sub.c_str());
                    (void)::rename(aside.c_str(), sub.c_str());
                }
        }
        return pid;
    };
    build();
    pid_t swapper = start_swapper();
    for (int round = 0; round < 300; ++round) {
        (void)sys::chown_tree(t, ::getuid(), ::getgid(), true);
        ::chmod(t.c_str(), 0755);
        ::chmod((t + "/sub").c_str(), 0755);
        ::chmod((t + "/sub.aside").c_str(), 0755);
    }
    for (int round = 0; round < 50; ++round) {
        (void)sys::remove_tree(t);
        struct stat st {};
        if (::lstat(t.c_str(), &st) == 0) continue;
        ::kill(swapper, SIGKILL);
        ::waitpid(swapper, nullptr, 0);
        build();
        swapper = start_swapper();
    }
    ::kill(swapper, SIGKILL);
    ::waitpid(swapper, nullptr, 0);
    for (int i = 0; i < 20; ++i) {
        INFO(i);
        std::string f = out + "/f" + std::to_string(i);
        REQUIRE(::access(f.c_str(), F_OK) == 0);
        CHECK(mode_of(f) == 0666);
    }
    ::chmod(t.c_str(), 0755);
    (void)sys::remove_tree(d);
}

using test::sh_out;

// The release limit against a real repository: a large file, and a tree
// whose few bytes of pack name one subtree 2^20 times (empty files, each
// costing a block), are refused before anything is written.
TEST_CASE("checkout: a tree over the release limit, by bytes or by fan-out, writes nothing", "[release][limits]") {
    std::string d = tmpdir(), repo = d + "/repo.git";
    std::string git = "git -C " + repo + " ";
    sh_out("git init -q --bare " + repo);
    std::string big = sh_out("head -c 100000 /dev/zero | " + git + "hash-object -w --stdin");
    std::string small = sh_out("printf hi | " + git + "hash-object -w --stdin");
    std::string empty = sh_out(git + "hash-object -w --stdin < /dev/null");
    auto commit_of = [&](const std::string& tree_lines) {
        std::string tree = sh_out("printf '" + tree_lines + "' | " + git + "mktree");
        return sh_out(git + "-c user.name=t -c user.email=t@example.com commit-tree " + tree + " -m t");
    };
    std::string c_big = commit_of("100644 blob " + big + "\\tbig\\n");
    std::string c_small = commit_of("100644 blob " + small + "\\tsmall\\n");
    std::string level = sh_out("printf '100644 blob " + empty + "\\te\\n' | " + git + "mktree");
    for (int i = 0; i < 20; ++i)
        level = sh_out("printf '040000 tree " + level + "\\ta\\n040000 tree " + level + "\\tb\\n' | " + git + "mktree");
    std::string c_fan = sh_out(git + "-c user.name=t -c user.email=t@example.com commit-tree " + level + " -m fan");
    auto r = sys::GitRepo::open(repo);
    REQUIRE(r);
    for (const auto& c : {c_big, c_fan}) {
        INFO(c);
        auto out = (*r)->checkout(c, d + "/out", 64 * 1024);
        REQUIRE_FALSE(out);
        CHECK(out.error().code == -EFBIG);
        CHECK(out.error().message.find("limits release") != std::string::npos);
        CHECK(::access((d + "/out").c_str(), F_OK) < 0);
    }
    auto ok = (*r)->checkout(c_small, d + "/out", 64 * 1024);
    REQUIRE(ok);
    CHECK(::access((d + "/out/small").c_str(), F_OK) == 0);
    REQUIRE(sys::remove_tree(d));
}

// Taking a built tree back: no set-id bit survives, and a file a step
// hard-linked in from elsewhere becomes a copy of its own, the original
// untouched.
TEST_CASE("release walks: take-back drops set-id bits and unshares hard links", "[release]") {
    if (::getuid() != 0) return;  // chown to root needs root; CI runs as root
    std::string d = tmpdir(), out = d + "/outside", t = d + "/tree";
    REQUIRE(::mkdir(out.c_str(), 0755) == 0);
    make_file(out + "/data", 0664);
    REQUIRE(::chown((out + "/data").c_str(), 65534, 65534) == 0);
    REQUIRE(::mkdir(t.c_str(), 0755) == 0);
    make_file(t + "/tool", 04755);
    REQUIRE(::link((out + "/data").c_str(), (t + "/linked").c_str()) == 0);
    REQUIRE(sys::chown_tree(t, 0, 0, true));
    CHECK(mode_of(t + "/tool") == 0755);
    struct stat a {}, b {};
    REQUIRE(::stat((out + "/data").c_str(), &a) == 0);
    REQUIRE(::stat((t + "/linked").c_str(), &b) == 0);
    CHECK(a.st_ino != b.st_ino);
    CHECK(a.st_uid == 65534u);
    CHECK((a.st_mode & 07777) == 0664);
    CHECK(b.st_uid == 0u);
    CHECK((b.st_mode & 07777) == 0644);
    CHECK(a.st_nlink == 1u);
    REQUIRE(sys::remove_tree(d));
}

// A step can make a tree deeper than any walk should go, at no cost: it is
// removed all the same, in rounds (what lies below 256 levels moved up).
TEST_CASE("release walks: a tree 1500 levels deep is removed", "[release]") {
    std::string d = tmpdir(), t = d + "/tree";
    REQUIRE(::mkdir(t.c_str(), 0755) == 0);
    int fd = ::open(t.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    for (int i = 0; i < 1500; ++i) {
        REQUIRE(::mkdirat(fd, "d", 0755) == 0);
        int next = ::openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        REQUIRE(next >= 0);
        if (i % 100 == 0) make_file(t + "/marker" + std::to_string(i), 0644);
        ::close(fd);
        fd = next;
    }
    int f = ::openat(fd, "leaf", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(f >= 0);
    ::close(f);
    ::close(fd);
    auto st = sys::remove_tree(t);
    INFO((st ? std::string() : st.error().message));
    CHECK(st);
    CHECK(::access(t.c_str(), F_OK) < 0);
    REQUIRE(sys::remove_tree(d));
}

namespace {
// Records what run_process asks of the scopes: the step's process, seen
// before it has exec'd (still this test binary), and the end of its scope.
struct FakeScopes final : sys::StepScopes {
    bool fail = false;
    std::vector<std::string> calls;
    std::string exe_at_adopt;
    sys::Result<std::string> adopt(pid_t pid) override {
        char buf[4096] = {};
        ssize_t n = ::readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), buf, sizeof buf - 1);
        exe_at_adopt = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
        calls.push_back("adopt");
        if (fail) return sys::Error{-ECONNREFUSED, "no systemd"};
        return std::string("huddle-step-test.scope");
    }
    sys::Status end(const std::string& scope) override {
        calls.push_back("end " + scope);
        return {};
    }
};
}  // namespace

TEST_CASE("steps: each is put into its scope before it runs anything, and the scope is ended after it", "[process]") {
    TempDir d;
    FakeScopes scopes;
    std::string marker = d.path + "/ran";
    sys::RunSpec spec{{"/bin/sh", "-c", "touch " + marker}, "", "", d.path, {"PATH=/usr/bin:/bin"}, 10 * kUsecPerSec, "", &scopes};
    auto r = sys::run_process(spec, [](const std::string&) {});
    REQUIRE(r);
    CHECK(r->ok());
    CHECK(scopes.calls == std::vector<std::string>{"adopt", "end huddle-step-test.scope"});
    char self[4096] = {};
    REQUIRE(::readlink("/proc/self/exe", self, sizeof self - 1) > 0);
    CHECK(scopes.exe_at_adopt == self);  // held before exec: nothing of the step ran outside its scope
    CHECK(::access(marker.c_str(), F_OK) == 0);
    // No scope, no step: the command never runs.
    ::unlink(marker.c_str());
    scopes.fail = true;
    scopes.calls.clear();
    auto refused = sys::run_process(spec, [](const std::string&) {});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == -ECONNREFUSED);
    CHECK(scopes.calls == std::vector<std::string>{"adopt"});
    CHECK(::access(marker.c_str(), F_OK) < 0);
}
