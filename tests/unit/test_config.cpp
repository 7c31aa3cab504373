#include "catch.hpp"

#include "core/config.hpp"

using namespace huddle;

namespace {
LoadResult ini(const std::string& text, const std::string& name = "app") { return load_config(name, name + ".ini", Format::ini, text); }

bool has(const LoadResult& r, int line, const std::string& needle) {
    for (const auto& d : r.diags.items())
        if (d.severity == Severity::error && (line == 0 || d.loc.line == line) && d.message.find(needle) != std::string::npos) return true;
    return false;
}
}  // namespace

TEST_CASE("config: defaults") {
    auto r = ini("[repository]\nremote path = https://h/r.git\n");
    REQUIRE(r.config);
    const AppConfig& c = *r.config;
    CHECK(c.repo.local_path == "/var/lib/huddle/app/current");
    CHECK(c.repo.branch.empty());
    CHECK(c.timing.minimum == 60 * kUsecPerSec);
    CHECK_FALSE(c.timing.maximum);
    CHECK_FALSE(c.app);
    CHECK(c.deploy.keep == 3);
    CHECK(c.deploy.timeout == 600 * kUsecPerSec);
    CHECK(c.deploy.settle == 5 * kUsecPerSec);
}

TEST_CASE("config: one meaning, three formats, any key spelling") {
    auto a = ini("[Repository]\nRemote-Path = /srv/r.git\nLOCAL_PATH = /srv/app\n[timing]\nminimum = 10\nmaximum = 1min\n[application]\nstart = a b\n");
    auto j = load_config("app", "app.json", Format::json,
                         R"({"repository": {"remote path": "/srv/r.git", "local path": "/srv/app"}, "timing": {"minimum": 10, "maximum": "1min"}, "application": {"start": "a b"}})");
    auto t = load_config("app", "app.toml", Format::toml,
                         "[repository]\nremote_path = \"/srv/r.git\"\nlocal_path = \"/srv/app\"\n[timing]\nminimum = 10\nmaximum = \"60s\"\n[application]\nstart = \"a b\"\n");
    for (const auto* r : {&a, &j, &t}) {
        REQUIRE(r->config);
        CHECK(r->config->repo.remote_path == "/srv/r.git");
        CHECK(r->config->repo.local_path == "/srv/app");
        CHECK(r->config->timing.minimum == 10 * kUsecPerSec);
        CHECK(*r->config->timing.maximum == 60 * kUsecPerSec);
        CHECK(r->config->app->start == std::vector<std::string>{"a", "b"});
        CHECK(r->config->app->working_directory == "/srv/app");
    }
}

TEST_CASE("config: validation errors name the line") {
    struct Row {
        const char* text;
        int line;
        const char* needle;
    };
    const Row rows[] = {
        {"[timing]\nminimum = 5\n", 1, "remote path"},
        {"[repository]\nremote path = /r\nlocal path = rel/x\n", 3, "absolute"},
        {"[repository]\nremote path = /r\n[timing]\nminimum = 30\nmaximum = 10\n", 5, "less than minimum"},
        {"[repository]\nremote path = /r\nbranch = main\ntag = v*\n", 4, "branch and tag"},
        {"[repository]\nremote path = /r\n[application]\nstart = echo 'oops\n", 4, "unterminated single quote"},
        {"[repository]\nremote path = /r\n[application]\nuser = x\n", 3, "start"},
        {"[repository]\nremote path = /r\nbrnach = x\n", 3, "did you mean 'branch'"},
        {"[repository]\nremote path = /r\n[timing]\nbranch = x\n", 4, "belongs in [repository]"},
        {"[repository]\nremote path = /r\nremote_path = /s\n", 3, "set twice"},
        {"[repositry]\nremote path = /r\n", 1, "did you mean [repository]"},
        {"[repository]\nremote path = https://u:secret@h/r.git\n", 2, "password or token"},
        {"[repository]\nremote path = /r\nlocal path = /etc\n", 3, "system directory"},
        {"[repository]\nremote path = /r\nsubmodules = maybe\n", 3, "true or false"},
        {"[repository]\nremote path = /r\n[deploy]\nkeep = 0\n", 4, "from 1 to 100"},
        {"[repository]\nremote path = /r\n[application]\nstart = a\nenvironment = HUDDLE_APP=x\n", 5, "set by huddle"},
        {"[repository]\nremote path = /r\n[application]\nstart = a\nenvironment = 1X=y\n", 5, "not a valid environment variable name"},
        {"[repository]\nremote path = /r\n[application]\nstart = a\ntype = forking\n", 5, "not one of"},
        {"[repository]\nremote path = /r\n[test]\nremote = x\n", 4, "never implemented"},
        {"[repository]\nremote path = /r\n[application]\nstart = a\n[watchdog]\nperiod = 5\n", 5, "port"},
        {"[repository]\nremote path = /r\n[watchdog]\nport = 80\n", 3, "no [application]"},
        {"[repository]\nremote path = /r\ncommit = xyz\n", 3, "hexadecimal"},
    };
    for (const auto& r : rows) {
        INFO(r.text);
        auto res = ini(r.text);
        CHECK_FALSE(res.config);
        CHECK(has(res, r.line, r.needle));
    }
}

TEST_CASE("config: newlines cannot reach unit properties or the environment") {
    auto r = load_config("app", "app.json", Format::json,
                         R"({"repository": {"remote path": "/r"}, "application": {"start": "a", "environment": {"A": "x\nB=y"}}})");
    CHECK_FALSE(r.config);
    CHECK(has(r, 0, "line breaks"));
    auto r2 = load_config("app", "app.json", Format::json, R"({"repository": {"remote path": "/r", "branch": "a\nb"}})");
    CHECK_FALSE(r2.config);
}

TEST_CASE("config: Huddle compatibility") {
    SECTION("[scripts] lists split on commas in INI, not in JSON") {
        auto r = ini("[repository]\nremote path = /r\n[scripts]\npre-pull = ls -a, mkdir mydir\npost-pull = make\n");
        REQUIRE(r.config);
        CHECK(r.config->deploy.pre_pull == std::vector<std::string>{"ls -a", "mkdir mydir"});
        CHECK(r.config->deploy.build == std::vector<std::string>{"make"});
        auto j = load_config("app", "app.json", Format::json, R"({"repository": {"remote path": "/r"}, "scripts": {"pre-pull": ["echo a, b"], "post-pull": []}})");
        REQUIRE(j.config);
        CHECK(j.config->deploy.pre_pull == std::vector<std::string>{"echo a, b"});
        CHECK(j.config->deploy.build.empty());
    }
    SECTION("a single INI script is one command, not characters") {
        auto r = ini("[repository]\nremote path = /r\n[scripts]\npost-pull = sudo reboot\n");
        REQUIRE(r.config);
        CHECK(r.config->deploy.build == std::vector<std::string>{"sudo reboot"});
    }
    SECTION("[application] executable is read as start") {
        auto r = ini("[repository]\nremote path = /r\n[application]\nexecutable = python -m app\n");
        REQUIRE(r.config);
        CHECK(r.config->app->start == std::vector<std::string>{"python", "-m", "app"});
        CHECK(r.diags.count(Severity::notice) == 1);
    }
    SECTION("an empty [test] is ignored with a notice") {
        auto r = ini("[repository]\nremote path = /r\n[test]\nremote =\npass response =\n");
        REQUIRE(r.config);
        CHECK(r.diags.count(Severity::notice) == 1);
    }
    SECTION("watchdog port may be a string") {
        auto r = load_config("app", "app.json", Format::json,
                             R"({"repository": {"remote path": "/r"}, "application": {"start": "a"}, "watchdog": {"period": 60, "host": "127.0.0.1", "port": "8888", "request": "watchdog", "response": "OK"}})");
        REQUIRE(r.config);
        CHECK(r.config->watchdog->port == 8888);
        CHECK(r.config->watchdog->response == "OK");
    }
}

TEST_CASE("config: relative program and working directory resolve inside the release") {
    auto r = ini("[repository]\nremote path = /r\nlocal path = /srv/a\n[application]\nstart = ./bin/server --port 80\nworking directory = web\n");
    REQUIRE(r.config);
    CHECK(r.config->app->start[0] == "/srv/a/bin/server");
    CHECK(r.config->app->working_directory == "/srv/a/web");
}

TEST_CASE("config: app names that cannot be unit names are refused") {
    auto r = ini("[repository]\nremote path = /r\n", "bad name");
    CHECK_FALSE(r.config);
    CHECK(has(r, 0, "rename the file"));
}

TEST_CASE("config: every key is listed for the documentation") {
    auto keys = known_keys();
    CHECK(keys.size() == 8);
    size_t n = 0;
    for (const auto& [s, ks] : keys) n += ks.size();
    CHECK(n > 35);
}

TEST_CASE("config: hostile values") {
    struct Row {
        const char* text;
        int line;
        const char* needle;
    };
    const Row rows[] = {
        // a file that is not strictly UTF-8: overlong, surrogate, above U+10FFFF
        {"[repository]\nremote path = /r\nbranch = a\xc0\xaf\n", 3, "UTF-8"},
        {"[repository]\nremote path = /r\nbranch = a\xe0\x80\xaf\n", 3, "UTF-8"},
        {"[repository]\nremote path = /r\nbranch = a\xed\xa0\x80\n", 3, "UTF-8"},
        {"[repository]\nremote path = /r\nbranch = a\xf4\x90\x80\x80\n", 3, "UTF-8"},
        // the program is an empty word, or climbs out of the release
        {"[repository]\nremote path = /r\n[application]\nstart = '' /bin/app\n", 4, "program name is empty"},
        {"[repository]\nremote path = /r\n[application]\nstart = ./../../bin/sh\n", 4, "must not contain '..'"},
        // a trailing backslash would join the next line of the unit file
        {"[repository]\nremote path = /r\nlocal path = /srv/a\\\n", 3, "backslash"},
        {"[repository]\nremote path = /r\n[application]\nstart = a\nworking directory = w\\\n", 5, "backslash"},
        // not an app's to replace
        {"[repository]\nremote path = /r\nlocal path = /etc/huddle/credentials\n", 3, "inside /etc/huddle"},
        {"[repository]\nremote path = /r\nlocal path = /proc/self/cwd\n", 3, "inside /proc"},
        // remotes: secrets, helpers, options, unknown transports
        {"[repository]\nremote path = ssh://git:secret@h/r.git\n", 2, "password"},
        {"[repository]\nremote path = HTTPS://u:t@h/r.git\n", 2, "user name, password or token"},
        {"[repository]\nremote path = https://h/r.git?private_token=x\n", 2, "query string"},
        {"[repository]\nremote path = ext::sh%20-c%20x\n", 2, "remote helper"},
        {"[repository]\nremote path = --upload-pack=x:r\n", 2, "not a host name"},
        {"[repository]\nremote path = ftp://h/r.git\n", 2, "not a transport"},
        {"[repository]\nremote path = file://../r.git\n", 2, "three slashes"},
        {"[repository]\nremote path = file:///srv/../etc/r.git\n", 2, "'..'"},
        // a control character
        {"[repository]\nremote path = /r\nbranch = \x01\n", 3, "control character U+0001"},
    };
    for (const auto& row : rows) {
        INFO(row.text);
        auto r = ini(row.text);
        CHECK_FALSE(r.config);
        CHECK(r.diags.count(Severity::error) == 1);
        CHECK(has(r, row.line, row.needle));
    }
    // longer than the kernel takes for one argument
    auto big = ini("[repository]\nremote path = /r\n[application]\nstart = /bin/app " + std::string(200000, 'x') + "\n");
    CHECK(big.diags.count(Severity::error) == 1);
    CHECK(has(big, 4, "at most 131072 bytes"));
    auto scheme = ini("[repository]\nremote path = HTTPS://h/r.git\n");
    REQUIRE(scheme.config);
    CHECK(scheme.config->repo.remote_path == "https://h/r.git");
}

TEST_CASE("config: a misspelling is one error, not also a missing key") {
    for (const char* text : {"[repository]\nremote pth = /r\n", "[repositry]\nremote path = /r\n",
                             "[repository]\nremote path = /r\n[application]\nstrat = a\n",
                             "[repository]\nremote path = /r\n[application]\nstart = a\n[watchdog]\nprot = 80\n"}) {
        INFO(text);
        auto r = ini(text);
        CHECK(r.diags.count(Severity::error) == 1);
        CHECK(has(r, 0, "did you mean"));
    }
}

TEST_CASE("config: a diagnostic is one line, whatever the file holds") {
    auto r = load_config("app", "app.json", Format::json,
                         R"({"repository": {"remote path": "/r"}, "application": {"start": "a", "environment": {"A\u0000B\nC": "x"}}})");
    REQUIRE(r.diags.count(Severity::error) == 1);
    std::string line = format_diagnostic(r.diags.items()[0]);
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line.find('\0') == std::string::npos);
    CHECK_THAT(line, Catch::Contains("'A\\x00B\\nC'"));
}

TEST_CASE("config: two apps cannot share a local path") {
    auto a = ini("[repository]\nremote path = /r\nlocal path = /srv/x\n", "a");
    auto b = load_config("b", "b.json", Format::json, "{\"repository\": {\"remote path\": \"/r\",\n \"local path\": \"/srv/x/\"}}");
    auto c = ini("[repository]\nremote path = /r\nlocal path = /srv/c\n", "c");
    auto d = ini("[repository]\nremote path = /r\n", "d");
    refuse_shared_local_paths({&a, &b, &c, &d});
    CHECK_FALSE(a.config);
    CHECK_FALSE(b.config);
    CHECK(has(a, 3, "also the local path of 'b' (b.json:2)"));
    CHECK(has(b, 2, "also the local path of 'a' (a.ini:3)"));
    CHECK(c.config);
    CHECK(d.config);
}

TEST_CASE("config: signers, keyring, verify and rewind in three formats") {
    auto i = ini("[repository]\nremote path = https://e.org/a.git\ntag = v*\nsigners = /etc/huddle/keys/signers\nverify = both\nrewind = yes\n");
    auto j = load_config("app", "app.json", Format::json,
                         R"({"repository": {"remote path": "https://e.org/a.git", "tag": "v*", "signers": "/etc/huddle/keys/signers", "verify": "both", "rewind": true}})");
    auto t = load_config("app", "app.toml", Format::toml,
                         "[repository]\nremote_path = \"https://e.org/a.git\"\ntag = \"v*\"\nsigners = \"/etc/huddle/keys/signers\"\nverify = \"both\"\nrewind = true\n");
    for (auto* r : {&i, &j, &t}) {
        REQUIRE(r->config);
        CHECK(r->config->repo.signers == "/etc/huddle/keys/signers");
        CHECK(r->config->repo.verify == VerifyMode::both);
        CHECK(r->config->repo.rewind);
        CHECK(r->config->repo.signers_loc.line == (r == &j ? 1 : 4));  // the JSON is one line
    }
    // Trust set, verify not: the commit is checked; nothing set: nothing is.
    auto k = ini("[repository]\nremote path = https://e.org/a.git\nkeyring = /etc/huddle/keys/release.asc\n");
    REQUIRE(k.config);
    CHECK(k.config->repo.verify == VerifyMode::commit);
    CHECK(!k.config->repo.rewind);
    auto none = ini("[repository]\nremote path = https://e.org/a.git\n");
    CHECK(none.config->repo.verify == VerifyMode::none);
}

TEST_CASE("config: verify needs someone to trust, and tag modes need a tag") {
    auto no_tag = ini("[repository]\nremote path = https://e.org/a.git\nsigners = /k/s\nverify = tag\n");
    CHECK(!no_tag.config);
    CHECK(has(no_tag, 4, "add tag = GLOB"));
    auto nobody = ini("[repository]\nremote path = https://e.org/a.git\nverify = commit\n");
    CHECK(!nobody.config);
    CHECK(has(nobody, 3, "add signers = FILE"));
    auto bogus = ini("[repository]\nremote path = https://e.org/a.git\nsigners = /k/s\nverify = yes\n");
    CHECK(!bogus.config);
    CHECK(has(bogus, 4, "'yes' is not one of: commit, tag, both, none"));
    auto relative = ini("[repository]\nremote path = https://e.org/a.git\nsigners = keys/signers\n");
    CHECK(!relative.config);
    CHECK(has(relative, 3, "must be an absolute path"));
    auto maybe = ini("[repository]\nremote path = https://e.org/a.git\nrewind = maybe\n");
    CHECK(!maybe.config);
    CHECK(has(maybe, 3, "expects true or false"));
}

TEST_CASE("config: an environment file inside the release or huddle's state is refused") {
    // The release is what the remote holds: a symlink there named
    // /etc/shadow would be read by PID 1 as root.
    auto in_release = ini("[repository]\nremote path = https://e.org/a.git\nlocal path = /srv/a\n[application]\nstart = ./run\nenvironment file = /srv/a/app.env\n");
    CHECK(!in_release.config);
    CHECK(has(in_release, 6, "is inside local path"));
    auto in_state = ini("[repository]\nremote path = https://e.org/a.git\n[application]\nstart = ./run\nenvironment file = /var/lib/huddle/app/current/.env\n");
    CHECK(!in_state.config);
    CHECK(has(in_state, 5, "inside"));
    auto outside = ini("[repository]\nremote path = https://e.org/a.git\nlocal path = /srv/a\n[application]\nstart = ./run\nenvironment file = /srv/a.env\n");
    REQUIRE(outside.config);
    CHECK(outside.config->app->environment_file == "/srv/a.env");
}
