#include "verify.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "fs.hpp"
#include "handles.hpp"
#include "process.hpp"

namespace huddle::sys {
namespace {

constexpr usec_t kToolTimeout = 60 * kUsecPerSec;

// A private directory for one check's files, removed with them.
class Scratch {
public:
    static Result<Scratch> make(const std::string& parent) {
        std::string tmpl = parent + "/.verify-XXXXXX";
        if (!::mkdtemp(tmpl.data())) return errno_error(errno, "cannot make a directory for the signature check in " + parent);
        return Scratch(tmpl);
    }
    Scratch(Scratch&& o) noexcept : dir_(std::move(o.dir_)) { o.dir_.clear(); }
    Scratch(const Scratch&) = delete;
    // Whatever the tools left in it goes too (gpg may make a file or an
    // empty directory in its home); the directory is root's and private.
    ~Scratch() {
        if (dir_.empty()) return;
        int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            DirPtr d(::fdopendir(fd));
            if (!d) ::close(fd);
            while (d) {
                struct dirent* e = ::readdir(d.get());
                if (!e) break;
                std::string_view n = e->d_name;
                if (n == "." || n == "..") continue;
                if (::unlinkat(::dirfd(d.get()), e->d_name, 0) < 0 && errno == EISDIR) ::unlinkat(::dirfd(d.get()), e->d_name, AT_REMOVEDIR);
            }
        }
        ::rmdir(dir_.c_str());
    }
    // NAME in the directory: a new file (never one already there) with CONTENT.
    Result<std::string> write(const std::string& name, const std::string& content) {
        std::string path = dir_ + "/" + name;
        UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!fd) return errno_error(errno, "cannot create " + path);
        for (size_t off = 0; off < content.size();) {
            ssize_t n = ::write(fd.get(), content.data() + off, content.size() - off);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return errno_error(n < 0 ? errno : EIO, "cannot write " + path);
            off += static_cast<size_t>(n);
        }
        return path;
    }
    std::string path(const std::string& name) const { return dir_ + "/" + name; }
    const std::string& dir() const { return dir_; }

private:
    explicit Scratch(std::string d) : dir_(std::move(d)) {}
    std::string dir_;
};

struct ToolRun {
    bool ok = false;
    std::string output;  // stdout and stderr, as the tool wrote them
};

Result<ToolRun> run_tool(std::vector<std::string> argv, const std::string& home, const std::string& stdin_path = "") {
    RunSpec spec;
    spec.argv = std::move(argv);
    spec.env = {"PATH=/usr/bin:/bin", "LC_ALL=C", "HOME=" + home};
    spec.stdin_path = stdin_path;
    spec.timeout = kToolTimeout;
    ToolRun t;
    auto r = run_process(spec, [&](const std::string& line) {
        if (t.output.size() < 64 * 1024) t.output += line + "\n";
    });
    if (!r) {
        const std::string& tool = spec.argv[0];
        std::string package = tool == "ssh-keygen" ? "openssh-client" : tool;
        return Error{r.error().code, "cannot run " + tool + " to check the signature (" + r.error().message + "); install it: apt install " + package};
    }
    if (r->timed_out || r->signal) return Error{-ETIME, spec.argv[0] + " " + r->describe() + " while checking the signature"};
    t.ok = r->ok();
    return t;
}

// The tool's own words, on one line, for the journal.
std::string said(const std::string& output) {
    std::string s;
    for (char ch : output) {
        if (ch == '\n') {
            if (!s.empty() && s.back() != ' ') s += "; ";
        } else if (static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f) {
            s += ch;
        }
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == ';')) s.pop_back();
    return s.empty() ? "no reason given" : s;
}

Error refused(std::string why) { return Error{-EKEYREJECTED, std::move(why)}; }

Result<Signer> verify_ssh(Scratch& tmp, const SignedPayload& sp, const std::string& signers) {
    auto sig = tmp.write("signature", sp.signature);
    if (!sig) return sig.error();
    auto payload = tmp.write("payload", sp.payload);
    if (!payload) return payload.error();
    auto found = run_tool({"ssh-keygen", "-Y", "find-principals", "-s", *sig, "-f", signers}, tmp.dir());
    if (!found) return found.error();
    if (!found->ok) {
        // Whose key it is, to name it: the signature alone says that much.
        auto key = run_tool({"ssh-keygen", "-Y", "check-novalidate", "-n", "git", "-s", *sig}, tmp.dir(), *payload);
        std::string fp = key && key->ok ? parse_ssh_key_fingerprint(key->output) : "";
        if (fp.empty()) return refused("the SSH signature does not verify (ssh-keygen: " + said(key ? key->output : found->output) + ")");
        return refused("signed by SSH key " + fp + ", which " + signers + " does not allow now (not listed, or outside its valid-after/valid-before; ssh-keygen: " +
                       said(found->output) + ")");
    }
    std::string principal = found->output.substr(0, found->output.find('\n'));
    auto checked = run_tool({"ssh-keygen", "-Y", "verify", "-f", signers, "-I", principal, "-n", "git", "-s", *sig}, tmp.dir(), *payload);
    if (!checked) return checked.error();
    auto signer = checked->ok ? parse_ssh_verify(checked->output) : std::nullopt;
    if (!signer) return refused("bad SSH signature for " + principal + " (the signed content was changed, or the signature is not for it; ssh-keygen: " + said(checked->output) + ")");
    return *signer;
}

Result<Signer> verify_openpgp(Scratch& tmp, const SignedPayload& sp, const std::string& keyring) {
    auto sig = tmp.write("signature.asc", sp.signature);
    if (!sig) return sig.error();
    auto payload = tmp.write("payload", sp.payload);
    if (!payload) return payload.error();
    // gpgv reads binary keyrings only; gpg takes the armor off an armored one.
    std::string ring = keyring;
    auto head = read_file(keyring, 16 * 1024 * 1024);
    if (!head) return head.error();
    if (head->find("-----BEGIN PGP PUBLIC KEY BLOCK-----") != std::string::npos) {
        ring = tmp.path("keyring.gpg");
        auto d = run_tool({"gpg", "--batch", "--no-options", "--quiet", "--homedir", tmp.dir(), "--output", ring, "--dearmor", keyring}, tmp.dir());
        if (!d) return Error{d.error().code, d.error().message + " (an armored keyring needs gpg; or give a binary one: gpg --dearmor)"};
        if (!d->ok) return Error{-EINVAL, "cannot read the armored keyring " + keyring + " (gpg: " + said(d->output) + ")"};
    }
    auto checked = run_tool({"gpgv", "--homedir", tmp.dir(), "--status-fd", "1", "--keyring", ring, *sig, *payload}, tmp.dir());
    if (!checked) return checked.error();
    OpenPgpVerdict v = parse_gpg_status(checked->output);
    if (v.good && checked->ok) return v.signer;
    std::string who = v.signer.principal.empty() ? v.signer.fingerprint : v.signer.principal + " (" + v.signer.fingerprint + ")";
    return refused("OpenPGP signature" + (who.empty() ? "" : " by " + who) + " refused: " + (v.why.empty() ? "gpgv failed" : v.why));
}

}  // namespace

Result<Signer> verify_signature(const SignedPayload& sp, const RepositoryConfig& repo, const std::string& workdir) {
    SignatureKind kind = signature_kind(sp.signature);
    if (kind == SignatureKind::none) return refused("not signed");
    if (kind == SignatureKind::unknown) return refused("signed in a format huddle does not check (only SSH and OpenPGP signatures)");
    if (kind == SignatureKind::ssh && repo.signers.empty()) return refused("signed with an SSH key, and the config sets no signers file to check it against");
    if (kind == SignatureKind::openpgp && repo.keyring.empty()) return refused("signed with OpenPGP, and the config sets no keyring to check it against");
    auto tmp = Scratch::make(workdir);
    if (!tmp) return tmp.error();
    return kind == SignatureKind::ssh ? verify_ssh(*tmp, sp, repo.signers) : verify_openpgp(*tmp, sp, repo.keyring);
}

}  // namespace huddle::sys
