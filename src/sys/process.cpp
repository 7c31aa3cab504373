#include "process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "clock.hpp"

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
    if (!error.empty()) return error;
    if (timed_out) return "timed out";
    if (signal) return std::string("killed by signal ") + strsignal(signal);
    return "exit status " + std::to_string(exit_code);
}

bool lookup_user(const std::string& user, const std::string& group, unsigned& uid, unsigned& gid, std::string& home, std::string& error) {
    struct passwd* pw = getpwnam(user.c_str());
    if (!pw) {
        error = "user '" + user + "' does not exist; create it or set [application] user";
        return false;
    }
    uid = pw->pw_uid;
    gid = pw->pw_gid;
    home = pw->pw_dir ? pw->pw_dir : "/";
    if (!group.empty()) {
        struct group* gr = getgrnam(group.c_str());
        if (!gr) {
            error = "group '" + group + "' does not exist";
            return false;
        }
        gid = gr->gr_gid;
    }
    return true;
}

RunResult run_process(const RunSpec& spec, const std::function<void(const std::string& line)>& on_line) {
    RunResult res;
    unsigned uid = 0, gid = 0;
    std::string home;
    if (!spec.user.empty() && !lookup_user(spec.user, spec.group, uid, gid, home, res.error)) return res;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        res.error = std::string("pipe: ") + std::strerror(errno);
        return res;
    }
    if (spec.argv.empty()) {
        res.error = "no command";
        return res;
    }
    std::string program = resolve_program(spec.argv[0], spec.env);
    if (program.empty()) {
        res.error = "'" + spec.argv[0] + "' is not in PATH; give its full path";
        return res;
    }
    std::vector<char*> argv, envp;
    argv.push_back(const_cast<char*>(program.c_str()));
    for (size_t i = 1; i < spec.argv.size(); ++i) argv.push_back(const_cast<char*>(spec.argv[i].c_str()));
    argv.push_back(nullptr);
    for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0) {
        res.error = std::string("fork: ") + std::strerror(errno);
        close(fds[0]);
        close(fds[1]);
        return res;
    }
    if (pid == 0) {
        // Child: only async-signal-safe calls from here to exec.
        setsid();
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        if (!spec.cwd.empty() && chdir(spec.cwd.c_str()) < 0) _exit(126);
        if (!spec.user.empty()) {
            if (initgroups(spec.user.c_str(), gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) _exit(126);
        }
        execve(argv[0], argv.data(), envp.data());
        _exit(127);
    }
    close(fds[1]);
    usec_t deadline = spec.timeout ? monotonic_usec() + spec.timeout : 0;
    std::string buf;
    char chunk[4096];
    bool open = true;
    while (open) {
        int wait_ms = -1;
        if (deadline) {
            usec_t now = monotonic_usec();
            if (now >= deadline) {
                res.timed_out = true;
                break;
            }
            wait_ms = static_cast<int>((deadline - now) / 1000) + 1;
        }
        struct pollfd p = {fds[0], POLLIN, 0};
        int r = poll(&p, 1, wait_ms);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        ssize_t n = read(fds[0], chunk, sizeof chunk);
        if (n <= 0) {
            open = false;
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
    if (res.timed_out) {
        kill(-pid, SIGTERM);
        usec_t grace = monotonic_usec() + 5 * kUsecPerSec;
        while (monotonic_usec() < grace && waitpid(pid, nullptr, WNOHANG) == 0) usleep(20000);
        kill(-pid, SIGKILL);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    close(fds[0]);
    if (res.timed_out) return res;
    if (WIFEXITED(status)) {
        res.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        res.signal = WTERMSIG(status);
    }
    return res;
}

}  // namespace huddle::sys
