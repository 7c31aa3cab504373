// Fakes behind src/sys's seams for the deploy cycle's unit tests: a git
// remote and repository held in memory, a unit manager whose app can crash,
// stall or stay silent on cue, a clock that moves only when slept on, and
// the cycle's log captured. Files (releases, the live link, state.json) and
// processes (build steps) stay real, in a temporary directory.
#pragma once
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/config.hpp"
#include "core/unitname.hpp"
#include "sys/deploy.hpp"

namespace huddle::test {

using sys::Error;
using sys::Result;
using sys::Status;

// What the remote holds, and what the app's repository has fetched of it.
struct FakeGit {
    std::vector<RemoteRef> refs;                                 // advertised
    std::map<std::string, std::map<std::string, std::string>> commits;  // oid -> path -> content, on the remote
    std::set<std::string> fetched;                               // in the local repository
    std::map<std::string, SignedPayload> signatures;             // commit -> its signature, when signed
    std::map<std::string, std::string> tags;                     // annotated tag object id -> raw content
    std::map<std::string, std::string> tag_targets;              // annotated tag object id -> commit
    std::map<std::string, std::string> parents;                  // commit -> parent
    Error remote_down{0, ""};                                    // code != 0: ls_remote fails so
    int ls_remote_calls = 0, fetches = 0, checkouts = 0;
    std::map<std::string, uint64_t> pack_bytes, tree_bytes;  // by commit: what a fetch receives, what a checkout writes
    uint64_t last_fetch_max = 0;
    std::string last_base;  // the base commit the last checkout was offered

    // Push COMMIT (a 40-hex id made from SEED) to refs/heads/BRANCH with one file.
    std::string push(const std::string& branch, char seed, const std::string& content) {
        std::string oid(40, seed);
        commits[oid] = {{"app.txt", content}};
        for (auto& r : refs)
            if (r.name == "refs/heads/" + branch) {
                if (r.oid != oid && !parents.count(oid)) parents[oid] = r.oid;
                r.oid = oid;
                return oid;
            }
        refs.push_back({"refs/heads/" + branch, oid, ""});
        return oid;
    }
};

class FakeRepository final : public sys::Repository {
public:
    explicit FakeRepository(FakeGit& g) : g_(g) {}
    Result<std::vector<RemoteRef>> ls_remote(const std::string&, const sys::GitAuth&) override {
        g_.ls_remote_calls++;
        if (g_.remote_down.code) return g_.remote_down;
        return g_.refs;
    }
    Status fetch(const std::string&, const std::string& ref, const sys::GitAuth&, uint64_t max_bytes) override {
        g_.fetches++;
        g_.last_fetch_max = max_bytes;
        for (const auto& r : g_.refs)
            if (r.name == ref && g_.pack_bytes.count(r.oid) && g_.pack_bytes[r.oid] > max_bytes)
                return Error{-EFBIG, "fetching " + ref + " stopped: more than the limit"};
        for (const auto& r : g_.refs)
            if (r.name == ref) {
                g_.fetched.insert(r.oid);
                if (g_.tag_targets.count(r.oid)) g_.fetched.insert(g_.tag_targets[r.oid]);
            }
        return {};
    }
    std::string resolve_commit(const std::string& oid) override {
        if (oid.empty()) return "";
        for (const auto& c : g_.fetched)
            if (c.rfind(oid, 0) == 0) return c;
        return "";
    }
    Result<size_t> checkout(const std::string& oid, const std::string& dir, uint64_t max_bytes, const std::string& base,
                            const std::string&) override {
        g_.checkouts++;
        g_.last_base = base;
        if (!g_.fetched.count(oid)) return Error{-ENOENT, "commit " + oid + " is not in the repository"};
        if (g_.tree_bytes.count(oid) && g_.tree_bytes[oid] > max_bytes) return Error{-EFBIG, "the commit's files are more than the limit"};
        if (::mkdir(dir.c_str(), 0755) < 0) return Error{-errno, "mkdir " + dir};
        for (const auto& [path, content] : g_.commits[oid]) std::ofstream(dir + "/" + path) << content;
        return size_t{0};
    }
    bool has_object(const std::string& oid) override { return g_.fetched.count(oid) > 0; }
    Result<SignedPayload> commit_signature(const std::string& oid) override {
        if (!g_.fetched.count(oid)) return Error{-ENOENT, "commit " + oid + " is not in the repository"};
        auto it = g_.signatures.find(oid);
        return it == g_.signatures.end() ? SignedPayload{"payload of " + oid, ""} : it->second;
    }
    Result<std::string> tag_object(const std::string& oid, const std::string& commit) override {
        if (!g_.fetched.count(oid)) return Error{-ENOENT, "tag object " + oid + " is not in the repository"};
        auto it = g_.tags.find(oid);
        if (it == g_.tags.end()) return Error{-EMEDIUMTYPE, "a lightweight tag"};
        if (g_.tag_targets[oid] != commit) return Error{-EXDEV, "the tag object does not tag " + commit};
        return it->second;
    }
    Result<bool> descends_from(const std::string& commit, const std::string& ancestor) override {
        std::string c = commit;
        for (size_t hops = 0; !c.empty() && hops <= g_.parents.size(); ++hops, c = g_.parents.count(c) ? g_.parents[c] : "")
            if (c == ancestor) return true;
        return false;
    }

private:
    FakeGit& g_;
};

// One app unit as systemd would run it, with cues for what goes wrong.
struct FakeUnits final : sys::UnitManager {
    struct Unit {
        bool loaded = true;
        std::string state = "inactive";
        int invocation = 1;
        uint32_t restarts = 0;
    };
    std::map<std::string, Unit> units;
    std::vector<std::string> calls;  // "restart U", "start U", "stop U", "reset-failed U"
    // What goes wrong after the next (re)start, and only then: its job
    // fails; or the app crashes after this many status checks; or systemd
    // stops answering after that many.
    struct Cue {
        bool start_fails = false;
        int crash_after_checks = -1;
        int silent_after_checks = -1;
    };
    Cue next_start;

    Result<sys::UnitStatus> unit_status(const std::string& unit) override {
        int n = ++checks_since_start_;
        if (cue_.silent_after_checks >= 0 && n > cue_.silent_after_checks) return Error{-ETIMEDOUT, "Connection timed out"};
        auto it = units.find(unit);
        if (it == units.end() || !it->second.loaded) return sys::UnitStatus{};
        Unit& u = it->second;
        if (cue_.crash_after_checks >= 0 && n > cue_.crash_after_checks && u.state == "active") {
            u.state = "activating";  // restarting after a crash
            u.restarts++;
            u.invocation++;
        }
        return sys::UnitStatus{true, u.state, std::to_string(u.invocation), u.restarts};
    }
    Status start_and_wait(const std::string& unit, bool restart, usec_t) override {
        calls.push_back((restart ? "restart " : "start ") + unit);
        cue_ = std::exchange(next_start, Cue{});
        checks_since_start_ = 0;
        Unit& u = units[unit];
        u.invocation++;
        if (cue_.start_fails) {
            u.state = "failed";
            return Error{-EIO, "job failed"};
        }
        u.state = "active";
        return {};
    }
    Status stop_and_wait(const std::string& unit, usec_t) override {
        calls.push_back("stop " + unit);
        units[unit].state = "inactive";
        return {};
    }
    Status reset_failed(const std::string& unit) override {
        calls.push_back("reset-failed " + unit);
        return {};
    }

private:
    Cue cue_;
    int checks_since_start_ = 0;
};

// A machine for one test: a state directory, one app, the fakes, a clock.
struct World {
    std::string dir;
    AppConfig config;
    FakeGit git;
    FakeUnits systemd;
    usec_t clock = 1000 * kUsecPerSec;
    bool systemd_reachable = true;
    int verifications = 0;
    std::ostringstream log;
    sys::DeployEnv env;

    World() {
        char tmpl[] = "/tmp/huddle-cycle.XXXXXX";
        dir = ::mkdtemp(tmpl);
        config.name = "web";
        config.repo.remote_path = "https://git.example/web.git";
        config.repo.branch = "main";
        config.repo.local_path = dir + "/srv/web";
        config.app = ApplicationConfig{};
        config.app->user = "root";
        config.deploy.settle = 3 * kUsecPerSec;
        systemd.units[app_unit_name("web")] = {};
        env.state_dir = dir + "/state";
        env.credentials_dir = dir + "/credentials";
        env.open_repository = [this](const std::string&, bool, const std::string&) -> Result<std::unique_ptr<sys::Repository>> {
            return std::unique_ptr<sys::Repository>(new FakeRepository(git));
        };
        // The cycle owns what it connects to; the world keeps the fake's state.
        env.connect_systemd = [this]() -> Result<std::unique_ptr<sys::UnitManager>> {
            if (!systemd_reachable) return Error{-ECONNREFUSED, "cannot connect to the system bus"};
            return std::unique_ptr<sys::UnitManager>(new Forward(systemd));
        };
        // A signature "good:PRINCIPAL" is PRINCIPAL's; any other is refused.
        env.verify_signature = [this](const SignedPayload& sp, const RepositoryConfig&, const std::string&) -> Result<Signer> {
            verifications++;
            if (sp.signature.rfind("good:", 0) == 0) return Signer{sp.signature.substr(5), "SHA256:fake-" + sp.signature.substr(5)};
            return Error{-EKEYREJECTED, sp.signature.empty() ? "not signed" : "signed by a key not allowed"};
        };
        env.sleep = [this](usec_t t) { clock += t; };
        env.now = [this] { return clock; };
        env.slot_dir = dir + "/slots";  // removed with dir
        env.slot_wait = 0;
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
        spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
    }
    ~World() {
        spdlog::set_default_logger(std::make_shared<spdlog::logger>("null"));
        std::system(("rm -rf '" + dir + "'").c_str());
    }

    int poll() { return sys::run_cycle(config, env); }
    std::string live() const {
        char buf[4096];
        ssize_t n = ::readlink(config.repo.local_path.c_str(), buf, sizeof buf - 1);
        if (n < 0) return "";
        std::string t(buf, static_cast<size_t>(n));
        return t.substr(t.rfind('/') + 1);
    }
    std::string state_json() const {
        std::ifstream f(env.state_dir + "/web/state.json");
        std::stringstream s;
        s << f.rdbuf();
        return s.str();
    }
    std::string unit() const { return app_unit_name("web"); }
    bool logged(const std::string& text) const { return log.str().find(text) != std::string::npos; }

private:
    struct Forward final : sys::UnitManager {
        explicit Forward(FakeUnits& u) : u_(u) {}
        Result<sys::UnitStatus> unit_status(const std::string& unit) override { return u_.unit_status(unit); }
        Status start_and_wait(const std::string& unit, bool restart, usec_t t) override { return u_.start_and_wait(unit, restart, t); }
        Status stop_and_wait(const std::string& unit, usec_t t) override { return u_.stop_and_wait(unit, t); }
        Status reset_failed(const std::string& unit) override { return u_.reset_failed(unit); }
        FakeUnits& u_;
    };
};

}  // namespace huddle::test
