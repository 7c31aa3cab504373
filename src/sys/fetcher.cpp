#include "fetcher.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "core/escape.hpp"
#include "release.hpp"

namespace huddle::sys {
namespace {

// What the child logs (a ref it ignores) is sent to the parent, which logs
// it as its own: the child's journal lines would carry the fetch user's uid,
// and journalctl -u huddle@APP shows only root's OBJECT_SYSTEMD_UNIT lines.
class CollectSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
public:
    std::vector<std::pair<int, std::string>> lines;

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        std::string text(msg.payload.data(), msg.payload.size());
        for (char& c : text)
            if (c == '\n') c = ' ';
        lines.emplace_back(static_cast<int>(msg.level), std::move(text));
    }
    void flush_() override {}
};

// The child's answer on its pipe: its log lines ("L<level> <text>\n"), then
// "0\n" and the payload, or "E<errno>\n" and the message. Anything else,
// or none, is the child's failure.
std::string encode(const CollectSink& logged, const Result<std::string>& r) {
    std::string out;
    for (const auto& [level, text] : logged.lines) out += "L" + std::to_string(level) + " " + text + "\n";
    if (r) return out + "0\n" + *r;
    return out + "E" + std::to_string(r.error().code) + "\n" + r.error().message;
}

// The child's words, escaped when they hold what a terminal would act on:
// its process could have been taken over by what the remote sent.
std::string from_child(const std::string& text) {
    for (unsigned char c : text)
        if (c < 0x20 || c >= 0x7f) return escape_untrusted(text);
    return text;
}

Result<std::string> decode(std::string answer) {
    while (answer.size() > 1 && answer[0] == 'L') {
        size_t nl = answer.find('\n'), sp = answer.find(' ');
        if (nl == std::string::npos || sp > nl) break;
        int level = std::atoi(answer.c_str() + 1);
        spdlog::log(level >= spdlog::level::trace && level <= spdlog::level::critical ? static_cast<spdlog::level::level_enum>(level)
                                                                                      : spdlog::level::warn,
                    "{}", from_child(answer.substr(sp + 1, nl - sp - 1)));
        answer.erase(0, nl + 1);
    }
    size_t nl = answer.find('\n');
    if (nl == std::string::npos) return Error{-EPROTO, "the fetch process gave no answer"};
    std::string head = answer.substr(0, nl), rest = answer.substr(nl + 1);
    if (head == "0") return rest;
    char* end = nullptr;
    long code = head.size() > 1 && head[0] == 'E' ? std::strtol(head.c_str() + 1, &end, 10) : 0;
    if (!end || *end || code >= 0 || code < -4095) return Error{-EPROTO, "the fetch process answered nonsense"};
    return Error{static_cast<int>(code), from_child(rest)};
}

// setgroups, setgid, setuid: from here the process has no capability (the
// kernel clears them when root's uid goes) and can gain none.
Status drop_to(const UserIds& who) {
    std::vector<gid_t> groups(who.groups.begin(), who.groups.end());
    if (::setgroups(groups.size(), groups.data()) < 0 || ::setgid(who.gid) < 0 || ::setuid(who.uid) < 0)
        return errno_error(errno, "the fetch process cannot become uid " + std::to_string(who.uid));
    if (::getuid() == 0 || ::geteuid() == 0 || ::setuid(0) == 0) return Error{-EPERM, "the fetch process is still root; refusing to go on"};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return errno_error(errno, "the fetch process cannot set no_new_privs");
    return {};
}

bool write_all(int fd, const std::string& s) {
    for (size_t off = 0; off < s.size();) {
        ssize_t n = ::write(fd, s.data() + off, s.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += static_cast<size_t>(n);
    }
    return true;
}

// In the child, before it drops to the fetch user: every fd but 0-2 and
// KEEP closed. The child does not exec, so O_CLOEXEC closes nothing, and
// root's fds (a connection PID 1 accepted as root's, the app's lock, the
// repository's packs) must not be the fetch user's to use.
void close_all_but(std::vector<int> keep) {
    keep.push_back(2);
    std::sort(keep.begin(), keep.end());
    unsigned from = 3;
    for (int fd : keep) {
        if (fd < 3) continue;
        if (static_cast<unsigned>(fd) > from) ::close_range(from, static_cast<unsigned>(fd) - 1, 0);
        from = static_cast<unsigned>(fd) + 1;
    }
    ::close_range(from, ~0u, 0);
}

// Read the child's answer until it exits (a grandchild holding the pipe
// open does not keep root waiting) or it sends more than any answer is.
std::string read_answer(int rd, pid_t pid) {
    std::string answer;
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    char buf[65536];
    bool exited = false;
    for (;;) {
        struct pollfd p[2] = {{rd, POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
        int n = ::poll(p, pidfd ? 2 : 1, exited ? 0 : -1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // exited and nothing more to read
        if (p[1].revents) exited = true;
        if (!(p[0].revents & (POLLIN | POLLHUP))) continue;
        ssize_t got = ::read(rd, buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        answer.append(buf, static_cast<size_t>(got));
        if (answer.size() > (64u << 20)) {  // more than any ref list: not an answer
            ::kill(pid, SIGKILL);
            answer.clear();
            break;
        }
    }
    return answer;
}

// Run BODY in a child that has dropped to WHO, and return what it answered.
// KEEP: the fds it needs besides its pipe. What the child left behind (a
// compromised one could fork) is killed.
template <class F>
Result<std::string> as_fetcher(const UserIds& who, std::vector<int> keep, F&& body) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) return errno_error(errno, "pipe");
    UniqueFd rd(fds[0]), wr(fds[1]);
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) return errno_error(errno, "fork");
    if (pid == 0) {
        rd.reset();
        keep.push_back(wr.get());
        close_all_but(keep);
        auto sink = std::make_shared<CollectSink>();
        spdlog::set_default_logger(std::make_shared<spdlog::logger>("fetch", sink));
        Status dropped = drop_to(who);
        fresh_libgit2_for_fetch_process();
        Result<std::string> r = dropped ? body() : Result<std::string>(dropped.error());
        _exit(write_all(wr.get(), encode(*sink, r)) ? 0 : 1);  // no destructors, no atexit: the parent's state is the parent's
    }
    wr.reset();
    std::string answer = read_answer(rd.get(), pid);
    rd.reset();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (Status st = kill_leftovers(); !st) return Error{st.code(), "the fetch process left processes behind: " + st.error().message};
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::string how = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status)) : "exit " + std::to_string(WEXITSTATUS(status));
        return Error{-ECHILD, "the fetch process failed (" + how + ")"};
    }
    return decode(answer);
}

// The credential and known hosts files, opened by root, never read by it:
// the child reads them from the fds (it could not open them, root's and
// 0600; nor reopen them through /proc/self/fd, which checks permissions
// again).
struct AuthFds {
    UniqueFd secret, known;
    std::vector<int> keep() const { return {secret.get(), known.get()}; }
};

Result<AuthFds> open_auth(const GitAuth& a) {
    AuthFds f;
    auto open_one = [](const std::string& path, UniqueFd& fd) -> Status {
        if (path.empty()) return {};
        fd.reset(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
        if (!fd && errno != ENOENT) return errno_error(errno, "cannot open " + path);
        return {};  // missing: the child finds no content and says so
    };
    if (Status st = open_one(a.secret_path, f.secret); !st) return st.error();
    if (Status st = open_one(a.known_hosts, f.known); !st) return st.error();
    return f;
}

// In the child: what the fds hold, at most LIMIT bytes.
Result<std::string> read_fd(int fd, size_t limit, const std::string& name) {
    std::string out;
    char buf[16384];
    for (off_t off = 0;;) {
        ssize_t n = ::pread(fd, buf, sizeof buf, off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error(errno, "cannot read " + name);
        if (n == 0) return out;
        out.append(buf, static_cast<size_t>(n));
        off += n;
        if (out.size() > limit) return Error{-EFBIG, name + " is larger than " + std::to_string(limit) + " bytes"};
    }
}

Result<GitAuth> child_auth(const GitAuth& a, const AuthFds& f) {
    GitAuth c = a;
    if (f.secret) {
        auto r = read_fd(f.secret.get(), 64 * 1024, a.secret_path);
        if (!r) return r.error();
        c.secret = std::move(*r);
    }
    if (f.known) {
        auto r = read_fd(f.known.get(), 4 * 1024 * 1024, a.known_hosts);
        if (!r) return r.error();
        c.known_hosts_content = std::move(*r);
    }
    return c;
}

// A ref list on the pipe: NAME TAB OID TAB SYMREF-TARGET, one per line.
std::string encode_refs(const std::vector<RemoteRef>& refs) {
    std::string out;
    for (const auto& r : refs) out += r.name + "\t" + r.oid + "\t" + r.symref_target + "\n";
    return out;
}

bool hex_oid(const std::string& s) {
    return (s.size() == 40 || s.size() == 64) && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Checked again here: the names and ids come from the unprivileged side.
Result<std::vector<RemoteRef>> decode_refs(const std::string& text) {
    std::vector<RemoteRef> refs;
    size_t at = 0;
    while (at < text.size()) {
        size_t nl = text.find('\n', at);
        if (nl == std::string::npos) return Error{-EPROTO, "the fetch process's ref list is cut short"};
        std::string line = text.substr(at, nl - at);
        at = nl + 1;
        size_t t1 = line.find('\t'), t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
        if (t2 == std::string::npos) return Error{-EPROTO, "the fetch process's ref list is malformed"};
        RemoteRef r{line.substr(0, t1), line.substr(t1 + 1, t2 - t1 - 1), line.substr(t2 + 1)};
        std::string base = r.name.size() > 3 && r.name.ends_with("^{}") ? r.name.substr(0, r.name.size() - 3) : r.name;
        int valid = 0;
        if (!hex_oid(r.oid) || git_reference_name_is_valid(&valid, base.c_str()) < 0 || !valid ||
            (!r.symref_target.empty() && (git_reference_name_is_valid(&valid, r.symref_target.c_str()) < 0 || !valid)))
            return Error{-EPROTO, "the fetch process's ref list holds an invalid entry"};
        refs.push_back(std::move(r));
    }
    return refs;
}

}  // namespace

Result<std::vector<RemoteRef>> SeparatedRepo::ls_remote(const std::string& url, const GitAuth& auth) {
    auto fds = open_auth(auth);
    if (!fds) return fds.error();
    auto answer = as_fetcher(fetcher_, fds->keep(), [&]() -> Result<std::string> {
        auto mine = child_auth(auth, *fds);
        if (!mine) return mine.error();
        auto refs = GitRepo::detached()->ls_remote(url, *mine);
        if (!refs) return refs.error();
        return encode_refs(*refs);
    });
    if (!answer) return with_hint(url, answer.error());
    return decode_refs(*answer);
}

// A local remote that root could read and the fetch user cannot fails in
// libgit2's words ("could not find repository"): say who must read it.
Error SeparatedRepo::with_hint(const std::string& url, Error e) const {
    if (url.rfind("file://", 0) == 0 || url.rfind('/', 0) == 0)
        e.message += "; huddle reads a local remote as " + name_ + ", which must be able to read it (chgrp or chmod it)";
    return e;
}

Status SeparatedRepo::fetch(const std::string& url, const std::string& ref, const GitAuth& auth, uint64_t max_bytes) {
    auto fds = open_auth(auth);
    if (!fds) return fds.error();
    if (Status st = hand_over_repository(path_, fetcher_); !st) {
        (void)take_back_repository(path_);
        return st;
    }
    auto answer = as_fetcher(fetcher_, fds->keep(), [&]() -> Result<std::string> {
        auto mine = child_auth(auth, *fds);
        if (!mine) return mine.error();
        auto repo = GitRepo::open(path_);
        if (!repo) return repo.error();
        if (Status st = (*repo)->fetch(url, ref, *mine, max_bytes); !st) return st.error();
        return std::string();
    });
    // Root's again before root reads any of it, whatever the answer.
    Status back = take_back_repository(path_);
    if (!answer) {
        if (!back) spdlog::error("{}", back.error().message);
        return with_hint(url, answer.error());
    }
    if (!back) return back;
    // Packs written behind root's open repository: opened afresh.
    auto reopened = GitRepo::open(path_);
    if (!reopened) return reopened.error();
    repo_ = std::move(*reopened);
    return {};
}

namespace {
bool fetch_writes_below(const char* name) { return std::strcmp(name, "objects") == 0 || std::strcmp(name, "refs") == 0; }
}  // namespace

// libgit2 (up to 1.9 at least) makes FETCH_HEAD.lock and FETCH_HEAD even
// when told not to update FETCH_HEAD, so the fetch user may create files at
// the top: the directory is sticky, so that it cannot rename or remove the
// files that are root's (config, HEAD), and what it made there goes at the
// take-back.
Status hand_over_repository(const std::string& path, const UserIds& to) {
    if (::unlink((path + "/FETCH_HEAD").c_str()) < 0 && errno != ENOENT) return errno_error(errno, "cannot remove " + path + "/FETCH_HEAD");
    if (Status st = own_dir(path, 0, to.gid, 01770); !st) return st;
    for (const char* sub : {"/objects", "/refs"})
        if (Status st = chown_tree(path + sub, to.uid, to.gid, false); !st) return st;
    return {};
}

Status take_back_repository(const std::string& path) {
    // Shut first: from here the fetch user cannot reach in by path.
    if (Status st = own_dir(path, 0, 0, 0700); !st) return st;
    UniqueFd top(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!top) return errno_error(errno, "cannot open " + path);
    std::vector<std::string> made;
    {
        DirPtr d = dir_stream(top.get());
        if (!d) return errno_error(errno, "cannot list " + path);
        while (struct dirent* e = ::readdir(d.get())) {
            struct stat st {};
            if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]))) continue;
            if (fetch_writes_below(e->d_name)) continue;
            if (::fstatat(top.get(), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_uid != 0) made.emplace_back(e->d_name);
        }
    }
    Status first;
    auto keep_first = [&](Status st) {
        if (!st && first) first = st;
    };
    for (const auto& name : made)
        if (::unlinkat(top.get(), name.c_str(), 0) < 0) keep_first(remove_tree(path + "/" + name));
    for (const char* sub : {"/objects", "/refs"}) keep_first(chown_tree(path + sub, 0, 0, false, true));
    // What a fetch never writes and root's libgit2 would read without a hash
    // check: other object stores, and commit graphs (whose parents the
    // ancestry check for rewind = false would believe).
    for (const char* f : {"/objects/info/alternates", "/objects/info/http-alternates", "/objects/info/commit-graph",
                          "/objects/pack/multi-pack-index"})
        if (::unlink((path + f).c_str()) == 0) spdlog::warn("removed {}{}, which no fetch writes", path, f);
    struct stat graphs {};
    if (::lstat((path + "/objects/info/commit-graphs").c_str(), &graphs) == 0) {
        keep_first(remove_tree(path + "/objects/info/commit-graphs"));
        spdlog::warn("removed {}/objects/info/commit-graphs, which no fetch writes", path);
    }
    if (!first) return Error{first.code(), "cannot take the repository back from the fetch user: " + first.error().message};
    return {};
}

Result<std::unique_ptr<Repository>> open_separated(const std::string& path, bool create, const std::string& fetch_user) {
    auto plain = [&]() -> Result<std::unique_ptr<GitRepo>> { return create ? GitRepo::open_or_init(path) : GitRepo::open(path); };
    if (::geteuid() != 0) {
        auto r = plain();
        if (!r) return r.error();
        return std::unique_ptr<Repository>(std::move(*r));
    }
    auto who = lookup_user(fetch_user, "");
    if (!who) return Error{-ENOENT, "the user " + fetch_user + " that talks to the remote does not exist; huddle-gen makes it (systemctl restart huddle-gen)"};
    if (who->uid == 0) return Error{-EPERM, "the fetch user " + fetch_user + " is root; it must be an unprivileged user"};
    // A cycle killed during a fetch left the repository the fetch user's.
    // Taken back under the app's lock only (a cycle, create): a dry run
    // beside a fetch would take it back from under that fetch.
    bool handed = false;
    for (const char* sub : {"", "/objects", "/refs"}) {
        struct stat st {};
        if (::lstat((path + sub).c_str(), &st) == 0 && (st.st_uid != 0 || (!*sub && (st.st_mode & 07777) != 0700))) handed = true;
    }
    if (handed && !create) return Error{-EBUSY, "the repository " + path + " is being fetched into; try again"};
    if (handed)
        if (Status back = take_back_repository(path); !back) return back.error();
    auto r = plain();
    if (!r) return r.error();
    return std::unique_ptr<Repository>(new SeparatedRepo(std::move(*r), path, std::move(*who), fetch_user));
}

}  // namespace huddle::sys
