#include "process.hpp"
#include "stepscope.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "clock.hpp"
#include "handles.hpp"

namespace huddle::sys {
namespace {
// As execvp would, but in the parent, against the step's own PATH, so that
// "not found" is a message rather than exit status 127.
std::string resolve_program(const std::string& name, const std::vector<std::string>& env) {
    if (name.find('/') != std::string::npos) return name;
    std::string path = "/usr/local/bin:/usr/bin:/bin";
    for (const auto& e : env)
        if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find(':', start);
        if (end == std::string::npos) end = path.size();
        std::string candidate = path.substr(start, end - start) + "/" + name;
        if (end > start && access(candidate.c_str(), X_OK) == 0) return candidate;
        start = end + 1;
    }
    return "";
}
}  // namespace

std::string RunResult::describe() const {
    if (timed_out) return "timed out";
    if (signal) return std::string("killed by signal ") + strsignal(signal);
    return "exit status " + std::to_string(exit_code);
}

Result<UserIds> lookup_user(const std::string& user, const std::string& group) {
    struct passwd* pw = getpwnam(user.c_str());
    if (!pw) return Error{-ENOENT, "user '" + user + "' does not exist; create it or set [application] user"};
    UserIds ids{pw->pw_uid, pw->pw_gid, pw->pw_dir ? pw->pw_dir : "/", {}};
    std::string name = user;  // pw may be overwritten by the lookups below
    // The supplementary groups of the user's own group, as initgroups(3)
    // would, read here: the child between fork and exec may not.
    int n = 32;
    std::vector<gid_t> groups(static_cast<size_t>(n));
    while (getgrouplist(name.c_str(), ids.gid, groups.data(), &n) < 0) groups.resize(static_cast<size_t>(n) * 2), n *= 2;
    ids.groups.assign(groups.begin(), groups.begin() + n);
    if (!group.empty()) {
        struct group* gr = getgrnam(group.c_str());
        if (!gr) return Error{-ENOENT, "group '" + group + "' does not exist; create it or set [application] group"};
        ids.gid = gr->gr_gid;
    }
    return ids;
}

namespace {

struct Spawned {
    pid_t pid;
    UniqueFd out;  // the step's stdout and stderr
};

// Fork and exec PROGRAM as SPEC says, its output into a pipe. With HOLD,
// the child waits for a byte on it before anything else (until it is put
// into its scope), and gives up if none comes.
Result<Spawned> spawn(const RunSpec& spec, const std::string& program, const UserIds& ids, int hold = -1, int hold_other = -1) {
    std::vector<char*> argv, envp;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (size_t i = 1; i < spec.argv.size(); ++i) argv.push_back(const_cast<char*>(spec.argv[i].c_str()));
    argv.push_back(nullptr);
    for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    std::vector<gid_t> groups(ids.groups.begin(), ids.groups.end());
    UniqueFd input(::open(spec.stdin_path.empty() ? "/dev/null" : spec.stdin_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!input) return errno_error(errno, "cannot open " + (spec.stdin_path.empty() ? std::string("/dev/null") : spec.stdin_path));
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) return errno_error(errno, "pipe");
    UniqueFd read_end(fds[0]), write_end(fds[1]);
    pid_t pid = fork();
    if (pid < 0) return errno_error(errno, "fork");
    if (pid == 0) {
        // Child: only system calls from here to exec (no allocation, no
        // NSS lookups: the groups were read before fork).
        if (hold >= 0) {
            close(hold_other);  // the parent's end: without it, the parent closing its own is EOF here
            char go = 0;
            while (read(hold, &go, 1) < 0 && errno == EINTR) {
            }
            if (go != 1) _exit(126);
        }
        setsid();
        signal(SIGPIPE, SIG_DFL);  // huddle-fetch ignores it; an ignored signal would stay ignored across exec
        dup2(input.get(), 0);
        dup2(write_end.get(), 1);
        dup2(write_end.get(), 2);
        if (!spec.cwd.empty() && chdir(spec.cwd.c_str()) < 0) _exit(126);
        if (!spec.user.empty() && (setgroups(groups.size(), groups.data()) < 0 || setgid(ids.gid) < 0 || setuid(ids.uid) < 0)) _exit(126);
        execve(argv[0], argv.data(), envp.data());
        _exit(127);
    }
    return Spawned{pid, std::move(read_end)};
}

// Hand FD's lines to ON_LINE until it closes (true) or DEADLINE passes (false).
bool read_lines(int fd, int pidfd, usec_t deadline, const std::function<void(const std::string& line)>& on_line) {
    std::string buf;
    char chunk[4096];
    bool closed = false, exited = false;
    while (!closed) {
        int wait_ms = -1;
        if (exited) {
            wait_ms = 0;  // what the step wrote before it ended, then stop
        } else if (deadline) {
            usec_t now = monotonic_usec();
            if (now >= deadline) break;
            wait_ms = static_cast<int>((deadline - now) / 1000) + 1;
        }
        struct pollfd p[2] = {{fd, POLLIN, 0}, {pidfd, POLLIN, 0}};
        int r = poll(p, pidfd >= 0 && !exited ? 2 : 1, wait_ms);
        if (r == 0 && exited) return true;  // its leftovers may hold the pipe open
        if (r <= 0) continue;  // EINTR, or the deadline: checked above
        if (!exited && pidfd >= 0 && (p[1].revents & POLLIN)) exited = true;
        if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n <= 0) {
            closed = true;
            break;
        }
        buf.append(chunk, static_cast<size_t>(n));
        size_t nl;
        while ((nl = buf.find('\n')) != std::string::npos) {
            on_line(buf.substr(0, nl));
            buf.erase(0, nl + 1);
        }
        // A step that never ends its line must not make us hold it all.
        if (buf.size() > 64 * 1024) {
            on_line(buf);
            buf.clear();
        }
    }
    if (!buf.empty()) on_line(buf);
    return closed;
}

// Stop the step's whole process group: TERM, 5 s, KILL.
void stop_group(pid_t pid) {
    kill(-pid, SIGTERM);
    usec_t grace = monotonic_usec() + 5 * kUsecPerSec;
    while (monotonic_usec() < grace && waitpid(pid, nullptr, WNOHANG) == 0) usleep(20000);
    kill(-pid, SIGKILL);
}

// The processes whose parent is this one, from /proc/self/task/*/children;
// false when the kernel does not say (no /proc, no CONFIG_PROC_CHILDREN).
bool children(std::vector<pid_t>& out) {
    out.clear();
    DIR* d = ::opendir("/proc/self/task");
    if (!d) return false;
    bool read = false;
    while (const dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::ifstream f(std::string("/proc/self/task/") + e->d_name + "/children");
        read = read || f.is_open();
        for (pid_t p; f >> p;) out.push_back(p);
    }
    ::closedir(d);
    return read;
}

}  // namespace

// What left the step's process group (setsid, a daemon's double fork) was
// reparented to this process, the child subreaper, when its parent ended:
// kill it, and what it started, until none is left. TasksMax= bounds how
// many there can be; 5 s bounds the sweep. An error when some are left, or
// when the kernel cannot say: the step's verdict cannot be trusted then.
Status kill_leftovers() {
    usec_t end = monotonic_usec() + 5 * kUsecPerSec;
    std::vector<pid_t> left;
    if (!children(left)) return Error{-ENOSYS, "cannot list the processes the step left (/proc/self/task/*/children)"};
    while (!left.empty()) {
        if (monotonic_usec() >= end)
            return Error{-EBUSY, std::to_string(left.size()) + " processes the step started were still running after 5s of SIGKILL"};
        for (pid_t p : left) ::kill(p, SIGKILL);
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
        usleep(1000);
        (void)children(left);
    }
    return {};
}

Result<RunResult> run_process(const RunSpec& spec, const std::function<void(const std::string& line)>& on_line) {
    UserIds ids;
    if (!spec.user.empty()) {
        auto u = lookup_user(spec.user, spec.group);
        if (!u) return u.error();
        ids = *u;
    }
    if (spec.argv.empty()) return Error{-EINVAL, "no command"};
    std::string program = resolve_program(spec.argv[0], spec.env);
    if (program.empty()) return Error{-ENOENT, "'" + spec.argv[0] + "' is not in PATH; give its full path"};
    // Orphans of the step come to this process, not to PID 1 (kill_leftovers).
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    int hold[2] = {-1, -1};
    if (spec.scopes && pipe2(hold, O_CLOEXEC) < 0) return errno_error(errno, "pipe");
    UniqueFd hold_read(hold[0]), hold_write(hold[1]);
    auto child = spawn(spec, program, ids, hold_read.get(), hold_write.get());
    if (!child) return child.error();
    hold_read.reset();
    std::string scope;
    if (spec.scopes) {
        auto adopted = spec.scopes->adopt(child->pid);
        if (!adopted) {
            hold_write.reset();  // the child gives up without running anything
            while (waitpid(child->pid, nullptr, 0) < 0 && errno == EINTR) {
            }
            return adopted.error();
        }
        scope = *adopted;
        char go = 1;
        if (write(hold_write.get(), &go, 1) != 1) {  // the child is gone (SIGPIPE is ignored: huddle-fetch main)
            Error e = errno_error(errno, "cannot start the step");
            kill(child->pid, SIGKILL);
            while (waitpid(child->pid, nullptr, 0) < 0 && errno == EINTR) {
            }
            (void)spec.scopes->end(scope);
            return e;
        }
        hold_write.reset();
    }
    RunResult res;
    // The step ends when its process does: what it left running in its
    // process group (a daemon, `cmd &`) must not go on writing the release
    // after the step, so it is killed while the leader is still a zombie
    // (its id, the group's, cannot be reused until it is reaped).
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child->pid, 0)));
    res.timed_out = !read_lines(child->out.get(), pidfd.get(), spec.timeout ? monotonic_usec() + spec.timeout : 0, on_line);
    if (res.timed_out) stop_group(child->pid);
    siginfo_t info{};
    while (waitid(P_PID, static_cast<id_t>(child->pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
    }
    kill(-child->pid, SIGKILL);
    int status = 0;
    while (waitpid(child->pid, &status, 0) < 0 && errno == EINTR) {
    }
    Status ended = scope.empty() ? Status{} : spec.scopes->end(scope);
    if (Status st = kill_leftovers(); !st) return st.error();
    if (!ended) return ended.error();
    if (res.timed_out) return res;
    if (WIFEXITED(status))
        res.exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        res.signal = WTERMSIG(status);
    return res;
}

int exec_from_environment() {
    const char* count = std::getenv("HUDDLE_ARGC");
    char* end = nullptr;
    long n = count ? std::strtol(count, &end, 10) : 0;
    if (!count || *end || n < 1 || n > 4096) {
        std::fprintf(stderr, "huddle-fetch --exec-environment: HUDDLE_ARGC is missing or not a count of words\n");
        return 127;
    }
    std::vector<std::string> words;
    for (long i = 0; i < n; ++i) {
        std::string name = "HUDDLE_ARGV_" + std::to_string(i);
        const char* w = std::getenv(name.c_str());
        if (!w) {
            std::fprintf(stderr, "huddle-fetch --exec-environment: %s is missing\n", name.c_str());
            return 127;
        }
        words.emplace_back(w);
        ::unsetenv(name.c_str());
    }
    ::unsetenv("HUDDLE_ARGC");
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    int err = errno;
    std::fprintf(stderr, "huddle-fetch --exec-environment: cannot run %s: %s\n", argv[0], std::strerror(err));
    return err == ENOENT ? 127 : 126;
}

}  // namespace huddle::sys
