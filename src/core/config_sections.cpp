// The section interpreters: [repository], [timing], [application],
// [deploy] with [scripts], [watchdog] and [test], each filling its part of
// the AppConfig from the value readers.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <iterator>
#include <map>

#include "appuser.hpp"
#include "cmdline.hpp"
#include "config_internal.hpp"
#include "core/url.hpp"

namespace huddle::config_detail {
namespace {

// Top-level directories a release symlink must never replace.
const char* const kSystemPaths[] = {"/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/opt", "/proc", "/root", "/run",
                                    "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/var/lib", "/var/lib/huddle", "/usr/local", "/usr/bin",
                                    "/usr/lib", "/var/log", "/var/tmp", "/etc/huddle"};

// Directories whose contents are not an app's to replace: huddle's configs
// and credentials, and the kernel's file systems.
const char* const kForeignTrees[] = {"/etc/huddle/", "/run/huddle/", "/usr/lib/huddle/", "/proc/", "/sys/", "/dev/"};

}  // namespace

void Interpreter::repository(AppConfig& c) {
    RepositoryConfig& r = c.repo;
    const Found* rp = get("repository", "remote path");
    if (!rp) {
        Loc loc = section_loc("repository");
        // A misspelt [repository] or remote path is reported as such.
        if (!(has_section("repository") ? explained("repository", "remote path") : unknown_section_))
            diags_.error(loc, "[repository] remote path",
                         has_section("repository") ? "required key is missing; add the git URL, e.g. remote path = https://example.com/app.git"
                                                   : "required key is missing (no [repository] section); add [repository] with remote path = GIT-URL");
    } else if (auto s = str("repository", "remote path")) {
        std::string why = remote_path_problem(*s);
        if (!why.empty()) error(*rp, why);
        else r.remote_path = normalize_remote_path(*s);
    }
    if (auto b = str("repository", "branch"); b && !b->empty()) {
        if (!valid_ref_text(*b)) error(*get("repository", "branch"), "'" + *b + "' is not a valid git branch name");
        else r.branch = *b;
    }
    if (auto t = str("repository", "tag"); t && !t->empty()) {
        if (t->find_first_of(" \t") != std::string::npos || (*t)[0] == '-') error(*get("repository", "tag"), "'" + *t + "' is not a valid tag pattern");
        else r.tag = *t;
    }
    if (!r.branch.empty() && !r.tag.empty())
        error(*get("repository", "tag"), "branch and tag are set together; keep branch to follow a branch, or tag to deploy the highest matching tag");
    if (auto cm = str("repository", "commit"); cm && !cm->empty()) {
        bool hex = std::all_of(cm->begin(), cm->end(), [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)); });
        if (!hex || cm->size() < 7 || cm->size() > 64)
            error(*get("repository", "commit"), "expects a commit id: 7 to 64 hexadecimal digits");
        else {
            r.commit = *cm;
            std::transform(r.commit.begin(), r.commit.end(), r.commit.begin(), [](unsigned char ch) { return std::tolower(ch); });
        }
    }
    r.local_path = default_local_path(name_);
    if (auto lp = abs_path("repository", "local path")) {
        const char* const* tree = std::find_if(std::begin(kForeignTrees), std::end(kForeignTrees), [&](const char* t) { return lp->rfind(t, 0) == 0; });
        if (std::find(std::begin(kSystemPaths), std::end(kSystemPaths), *lp) != std::end(kSystemPaths))
            error(*get("repository", "local path"), "'" + *lp + "' is a system directory; huddle replaces local path with a symlink, so choose a path of its own such as /srv/" + name_);
        else if (tree != std::end(kForeignTrees))
            error(*get("repository", "local path"), "'" + *lp + "' is inside " + std::string(*tree, std::strlen(*tree) - 1) + ", which is not an app's to replace; choose a path of its own such as /srv/" + name_);
        else if (std::string parent = lp->substr(0, std::max<size_t>(lp->rfind('/'), 1));
                 parent != "/srv" && std::find(std::begin(kSystemPaths), std::end(kSystemPaths), parent) != std::end(kSystemPaths))
            // The fetch unit may write local path's parent (it replaces the
            // link there), and a build runs inside that unit.
            error(*get("repository", "local path"), "'" + *lp + "' is directly in " + parent +
                                                        ", which the system shares: the deploy could write all of it; put the app in a directory of its own, such as " +
                                                        (parent == "/" ? std::string("") : parent) + "/" + name_ + "/current or /srv/" + name_);
        else if (lp->rfind("/var/lib/huddle/", 0) == 0 && *lp != default_local_path(name_))
            error(*get("repository", "local path"), "paths under /var/lib/huddle/ belong to huddle's state; leave local path unset to use " + default_local_path(name_));
        else {
            r.local_path = *lp;
            r.local_path_loc = get("repository", "local path")->entry->value.loc;
        }
    }
    if (auto rm = str("repository", "remote"); rm && !rm->empty()) r.remote_name = *rm;
    if (const Found* ex = get("repository", "executable"))
        diags_.notice(ex->entry->loc, ex->label, "ignored: huddle does its git work with libgit2, not a git executable");
    if (auto ty = str("repository", "type"); ty && normalize_key(*ty) != "git" && !ty->empty())
        error(*get("repository", "type"), "only type = git is supported");
    if (auto cr = str("repository", "credential"); cr && !cr->empty()) {
        bool ok = (*cr)[0] != '.' && std::all_of(cr->begin(), cr->end(), [](char ch) {
            return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-';
        });
        if (!ok) error(*get("repository", "credential"), "expects the name of a file in /etc/huddle/credentials/ (letters, digits, '.', '_', '-')");
        else r.credential = *cr;
        // Basic authentication over http:// sends the token in cleartext.
        if (auto url = split_url(r.remote_path); ok && url && url->scheme == "http")
            error(*get("repository", "credential"),
                  "is not sent over an http:// remote path (the token would cross the network in cleartext); use https://, or remove credential");
    }
    if (auto kh = abs_path("repository", "known hosts")) r.known_hosts = *kh;
    // Not silently ignored: a release without its submodules is broken.
    if (auto sm = boolean("repository", "submodules"); sm && *sm)
        error(*get("repository", "submodules"), "submodules are not supported yet (releases are checked out without them); remove the key or set it to false");
    signing(r);
}

// Who may release: the files naming the signers, what must be signed, and
// whether the ref may go back. Whether the files are there and safe is the
// loader's to check (load_apps), since that needs the file system.
void Interpreter::signing(RepositoryConfig& r) {
    if (auto p = abs_path("repository", "signers")) {
        r.signers = *p;
        r.signers_loc = get("repository", "signers")->entry->value.loc;
    }
    if (auto p = abs_path("repository", "keyring")) {
        r.keyring = *p;
        r.keyring_loc = get("repository", "keyring")->entry->value.loc;
    }
    bool trusted = !r.signers.empty() || !r.keyring.empty();
    r.verify = trusted ? VerifyMode::commit : VerifyMode::none;
    if (auto v = one_of("repository", "verify", {"commit", "tag", "both", "none"})) {
        const Found& f = *get("repository", "verify");
        r.verify = *v == "commit" ? VerifyMode::commit : *v == "tag" ? VerifyMode::tag : *v == "both" ? VerifyMode::both : VerifyMode::none;
        if (r.verify != VerifyMode::none && !trusted)
            error(f, "verify = " + *v + " needs someone to trust; add signers = FILE (ssh-keygen allowed signers) or keyring = FILE (OpenPGP keys)");
        else if ((r.verify == VerifyMode::tag || r.verify == VerifyMode::both) && r.tag.empty())
            error(f, "verify = " + *v + " checks the annotated tag that tag = GLOB picks, and no tag is set; add tag = GLOB, or use verify = commit");
    }
    if (auto rw = boolean("repository", "rewind")) r.rewind = *rw;
}

// Bounds on what a deploy may cost. Below the minimums no real app deploys
// at all, which is a config mistake to say so, not a limit.
void Interpreter::limits(AppConfig& c) {
    LimitsConfig& l = c.limits;
    if (auto m = size("limits", "memory", 64ull << 20)) l.memory = *m;
    if (const Found* f = get("limits", "tasks")) {
        const RawValue& v = f->entry->value;
        if (v.kind == RawValue::Kind::string && v.str == "infinity")
            l.tasks = kSizeInfinity;
        else if (auto t = integer("limits", "tasks", 16, 1 << 22))
            l.tasks = static_cast<uint64_t>(*t);
    }
    if (auto b = size("limits", "fetch", 1ull << 20)) l.fetch = *b;
    if (auto b = size("limits", "release", 1ull << 20)) l.release = *b;
}

void Interpreter::timing(AppConfig& c) {
    if (auto mn = duration("timing", "minimum")) {
        if (*mn < kUsecPerSec) error(*get("timing", "minimum"), "must be at least 1s; polling more often than that only loads the git server");
        else c.timing.minimum = *mn;
    }
    if (auto mx = duration("timing", "maximum")) {
        if (*mx < c.timing.minimum)
            error(*get("timing", "maximum"),
                  get("timing", "minimum")
                      ? fmt::format("maximum ({}) is less than minimum ({}); swap them or raise maximum", format_timespan(*mx), format_timespan(c.timing.minimum))
                      : fmt::format("maximum ({}) is less than the default minimum ({}); set minimum too", format_timespan(*mx), format_timespan(c.timing.minimum)));
        else
            c.timing.maximum = *mx;
    }
}

void Interpreter::environment(ApplicationConfig& a) {
    const Found* f = get("application", "environment");
    if (!f) return;
    const RawValue& v = f->entry->value;
    auto add_assignment = [&](const std::string& s, const Loc& loc) {
        size_t eq = s.find('=');
        if (eq == std::string::npos) {
            error_at(loc, f->label, "'" + s + "' is not NAME=VALUE");
            return;
        }
        std::string k = s.substr(0, eq), val = s.substr(eq + 1);
        if (env_ok(loc, f->label, k, val)) a.environment.emplace_back(k, val);
    };
    if (v.kind == RawValue::Kind::table) {
        for (const auto& [k, item] : v.table) {
            if (item.kind == RawValue::Kind::list || item.kind == RawValue::Kind::table) {
                error_at(item.loc, f->label, "the value of " + k + " must be text, a number or a boolean");
                continue;
            }
            std::string val = item.kind == RawValue::Kind::string ? item.str
                              : item.kind == RawValue::Kind::integer ? std::to_string(item.integer)
                              : item.kind == RawValue::Kind::boolean ? (item.boolean ? "true" : "false")
                                                                      : fmt::format("{}", item.floating);
            if (env_ok(item.loc, f->label, k, val)) a.environment.emplace_back(k, val);
        }
    } else if (v.kind == RawValue::Kind::list) {
        for (const auto& item : v.list) {
            if (item.kind != RawValue::Kind::string) {
                error_at(item.loc, f->label, "list items must be NAME=VALUE text");
                return;
            }
            // INI's "environment =" with the assignments on the lines below.
            if (item.untyped && item.str.empty()) continue;
            add_assignment(item.str, item.loc);
        }
    } else if (v.kind == RawValue::Kind::string) {
        // One line of NAME=VALUE words, quoted as in systemd's Environment=.
        SplitResult r = split_command(v.str);
        if (!r.error.empty() && r.error.rfind("is empty", 0) != 0) {
            error(*f, r.error + "; close the quote, or escape it with a backslash");
            return;
        }
        for (const auto& w : r.argv) add_assignment(w, v.loc);
    } else {
        error(*f, "expects a table of NAME = VALUE, or a list of NAME=VALUE");
    }
    std::map<std::string, int> seen;
    for (const auto& [k, val] : a.environment)
        if (++seen[k] == 2) error(*f, k + " is set twice");
}

void Interpreter::application(AppConfig& c) {
    if (!has_section("application")) return;
    ApplicationConfig a;
    const Found* start = get("application", "start");
    const Found* exe = get("application", "executable");
    if (start && exe) error(*exe, "Huddle's 'executable' and 'start' mean the same here; keep only start");
    if (!start && exe) {
        diags_.notice(exe->entry->loc, exe->label, "read as start = ... (Huddle's older spelling)");
        start = exe;
    }
    if (!start) {
        if (!explained("application", "start") && !explained("application", "executable"))
            diags_.error(section_loc("application"), "[application] start",
                         "required key is missing; add the command that runs the app, e.g. start = python3 -m app, or remove [application] for a files-only sync");
    } else if (auto argv = command("application", start == exe ? "executable" : "start")) {
        a.start = *argv;
        if (std::string("-+!@:").find(a.start[0][0]) != std::string::npos && !a.start[0].empty())
            error(*start, "the program name must not start with '" + a.start[0].substr(0, 1) +
                              "': systemd reads it as an ExecStart prefix; use the program's path, or sh -c");
        else if (a.start[0].find('/') != std::string::npos && a.start[0][0] != '/') {
            // "./server": relative to the release, where the app runs.
            std::string p = a.start[0];
            if (p.rfind("./", 0) == 0) p = p.substr(2);
            if (has_dot_dot(p)) error(*start, "a relative program is inside the release and must not contain '..'; give an absolute path for one outside it");
            else a.start[0] = c.repo.local_path + "/" + p;
        }
    }
    a.user = default_app_user(c.name);
    if (auto u = str("application", "user"); u && !u->empty()) {
        if (!valid_user_name(*u)) error(*get("application", "user"), "'" + *u + "' is not a valid user name");
        else a.user = *u;
    }
    if (auto g = str("application", "group"); g && !g->empty()) {
        if (!valid_user_name(*g)) error(*get("application", "group"), "'" + *g + "' is not a valid group name");
        else a.group = *g;
    }
    environment(a);
    if (auto ef = abs_path("application", "environment file")) {
        // PID 1 reads it as root, following symlinks: from the release (what
        // the remote holds) or huddle's state it would be the remote's choice.
        const std::string& lp = c.repo.local_path;
        if (ef->rfind(lp + "/", 0) == 0 || ef->rfind("/var/lib/huddle/", 0) == 0)
            error(*get("application", "environment file"), "'" + *ef + "' is inside " + (ef->rfind(lp + "/", 0) == 0 ? "local path, the release the remote provides" : "huddle's state") +
                                                                 "; systemd reads it as root and follows its symlinks. Keep it outside, e.g. /etc/default/" + name_);
        else
            a.environment_file = *ef;
    }
    if (auto t = one_of("application", "type", {"simple", "exec", "notify"})) a.type = *t;
    if (auto r = one_of("application", "restart", {"no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always"})) a.restart = *r;
    a.stop_timeout = duration("application", "stop timeout");
    if (const Found* wd = get("application", "working directory")) {
        auto s = str("application", "working directory");
        if (s && !s->empty()) {
            if ((*s)[0] == '/')
                a.working_directory = abs_path("application", "working directory").value_or("");
            else if (s->find("..") != std::string::npos)
                error(*wd, "a relative working directory is inside the release and must not contain '..'");
            else if (s->back() == '\\')
                error(*wd, kBackslashEnd);
            else
                a.working_directory = c.repo.local_path + "/" + *s;
        }
    }
    if (a.working_directory.empty()) a.working_directory = c.repo.local_path;
    if (auto sb = boolean("application", "sandbox")) a.sandbox = *sb;
    c.app = std::move(a);
}

void Interpreter::deploy(AppConfig& c) {
    DeployConfig& d = c.deploy;
    if (auto b = list("deploy", "build", false)) d.build = *b;
    if (auto p = list("scripts", "post-pull", true)) d.build.insert(d.build.end(), p->begin(), p->end());
    if (auto p = list("scripts", "pre-pull", true)) d.pre_pull = *p;
    if (auto v = list("deploy", "verify", false)) d.verify = *v;
    if (auto t = duration("deploy", "timeout")) {
        if (*t < kUsecPerSec) error(*get("deploy", "timeout"), "must be at least 1s");
        else d.timeout = *t;
    }
    if (auto s = duration("deploy", "settle")) d.settle = *s;
    if (get("deploy", "health command")) {
        auto s = str("deploy", "health command");
        if (s && !s->empty())
            if (auto argv = command("deploy", "health command")) d.health_command = *argv;
    }
    if (auto t = duration("deploy", "health timeout")) {
        if (*t < kUsecPerSec) error(*get("deploy", "health timeout"), "must be at least 1s");
        else d.health_timeout = *t;
    }
    if (auto k = integer("deploy", "keep", 1, 100)) d.keep = static_cast<unsigned>(*k);
    if (!c.app && (get("deploy", "health command") || get("deploy", "settle") || get("deploy", "health timeout"))) {
        const Found* f = get("deploy", "health command") ? get("deploy", "health command") : get("deploy", "settle") ? get("deploy", "settle") : get("deploy", "health timeout");
        diags_.warning(f->entry->loc, f->label, "has no effect without an [application] section (a files-only sync has no app to check)");
    }
}

void Interpreter::watchdog(AppConfig& c) {
    if (!has_section("watchdog")) return;
    WatchdogConfig w;
    if (auto p = duration("watchdog", "period")) {
        if (*p < kUsecPerSec) error(*get("watchdog", "period"), "must be at least 1s");
        else w.period = *p;
    }
    if (auto h = str("watchdog", "host"); h && !h->empty()) w.host = *h;
    if (!get("watchdog", "port")) {
        if (!explained("watchdog", "port"))
            diags_.error(section_loc("watchdog"), "[watchdog] port", "required key is missing; add the TCP port the app answers on");
    } else if (auto p = integer("watchdog", "port", 1, 65535))
        w.port = static_cast<uint16_t>(*p);
    if (auto r = str("watchdog", "request")) w.request = *r;
    if (auto r = str("watchdog", "response")) w.response = *r;
    if (!c.app) diags_.error(section_loc("watchdog"), "[watchdog]", "checks a running app, but there is no [application] section");
    c.watchdog = w;
}

void Interpreter::check_test() {
    if (!has_section("test")) return;
    const RawSection* sec = sections_.at("test");
    bool any_value = false;
    for (const auto& e : sec->entries) {
        const RawValue& v = e.value;
        bool empty = (v.kind == RawValue::Kind::string && v.str.empty()) || (v.kind == RawValue::Kind::list && v.list.empty()) ||
                     (v.kind == RawValue::Kind::table && v.table.empty());
        if (!empty) {
            any_value = true;
            diags_.error(e.loc, "[test] " + e.key,
                         "Huddle reserved [test] but never implemented it, so its meaning is unknown; move the check to [deploy] verify = COMMAND");
        }
    }
    if (!any_value)
        diags_.notice(sec->loc, "[test]", "ignored: Huddle's [test] section was never implemented; use [deploy] verify = COMMAND to check a release");
}

}  // namespace huddle::config_detail
