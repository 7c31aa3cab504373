#include <catch2/catch.hpp>

#include <algorithm>

#include "core/raw.hpp"

using namespace huddle;

namespace {
const RawEntry* find(const RawDoc& d, const std::string& sec, const std::string& key) {
    for (const auto& s : d.sections)
        if (s.name == sec)
            for (const auto& e : s.entries)
                if (e.key == key) return &e;
    return nullptr;
}
}  // namespace

TEST_CASE("ini: '=' and ':', '#' and ';' whole-line comments, '%' is plain, positions") {
    Diagnostics d;
    RawDoc doc = parse_ini("# c\n[repository]\nremote path: https://x/y.git\n; c2\nbranch = 100%\n\n[application]\nstart = a ; inline\n", "f.ini", d);
    REQUIRE_FALSE(d.has_errors());
    REQUIRE(doc.sections.size() == 2);
    CHECK(doc.sections[0].loc.line == 2);
    CHECK(doc.sections[1].loc.line == 7);
    auto* rp = find(doc, "repository", "remote path");
    REQUIRE(rp);
    CHECK(rp->value.str == "https://x/y.git");
    CHECK(rp->loc.line == 3);
    CHECK(rp->loc.col == 1);
    CHECK(rp->value.loc.col == 14);
    CHECK(find(doc, "repository", "branch")->value.str == "100%");
    // Huddle's configparser had no inline comments: " ; inline" is part of the value.
    CHECK(find(doc, "application", "start")->value.str == "a ; inline");
}

TEST_CASE("ini: indented lines continue a value as list items") {
    Diagnostics d;
    RawDoc doc = parse_ini("[deploy]\nbuild =\n  npm ci\n  npm test\nverify = x\n", "f.ini", d);
    REQUIRE_FALSE(d.has_errors());
    auto* b = find(doc, "deploy", "build");
    REQUIRE(b);
    REQUIRE(b->value.kind == RawValue::Kind::list);
    REQUIRE(b->value.list.size() == 2);
    CHECK(b->value.list[0].str == "npm ci");
    CHECK(b->value.list[1].str == "npm test");
    CHECK(b->value.list[1].loc.line == 4);
}

TEST_CASE("ini: lines longer than inih's buffer keep their whole value") {
    std::string longval(1000, 'x');
    Diagnostics d;
    RawDoc doc = parse_ini("[application]\nstart = echo " + longval + "\nuser = u\n", "f.ini", d);
    REQUIRE_FALSE(d.has_errors());
    CHECK(find(doc, "application", "start")->value.str == "echo " + longval);
    CHECK(find(doc, "application", "user")->loc.line == 3);
}

TEST_CASE("ini: malformed lines and keys outside sections are errors with lines") {
    Diagnostics d;
    parse_ini("stray = 1\n[repository]\nno separator here\n[broken\n", "f.ini", d);
    std::vector<int> lines;
    for (const auto& i : d.items()) lines.push_back(i.loc.line);
    CHECK(std::count(lines.begin(), lines.end(), 1) == 1);
    CHECK(std::count(lines.begin(), lines.end(), 3) == 1);
    CHECK(std::count(lines.begin(), lines.end(), 4) == 1);
}

TEST_CASE("ini: a section with no keys is still seen") {
    Diagnostics d;
    RawDoc doc = parse_ini("[repository]\nremote path = /x\n[test]\n", "f.ini", d);
    REQUIRE(doc.sections.size() == 2);
    CHECK(doc.sections[1].name == "test");
    CHECK(doc.sections[1].loc.line == 3);
}

TEST_CASE("json: comments, trailing commas, typed values and key positions") {
    Diagnostics d;
    RawDoc doc = parse_json("{\n  // c\n  \"repository\": {\n    \"remote path\": \"/x\",\n    \"submodules\": true,\n  },\n  \"timing\": {\"minimum\": 2.5, \"maximum\": 10}\n}\n",
                            "f.json", d);
    REQUIRE_FALSE(d.has_errors());
    CHECK(d.count(Severity::notice) == 1);  // the trailing comma
    auto* rp = find(doc, "repository", "remote path");
    REQUIRE(rp);
    CHECK(rp->loc.line == 4);
    CHECK(rp->loc.col == 5);
    CHECK(rp->value.loc.col == 20);
    CHECK(find(doc, "repository", "submodules")->value.kind == RawValue::Kind::boolean);
    CHECK(find(doc, "timing", "minimum")->value.floating == 2.5);
    CHECK(find(doc, "timing", "maximum")->value.integer == 10);
    CHECK(find(doc, "timing", "maximum")->loc.line == 7);
}

TEST_CASE("json: syntax errors give line and column") {
    Diagnostics d;
    parse_json("{\n  \"repository\": {\n    \"remote path\" \"/x\"\n  }\n}\n", "f.json", d);
    REQUIRE(d.has_errors());
    CHECK(d.items()[0].loc.line == 3);
    CHECK(d.items()[0].loc.col > 1);
    Diagnostics d2;
    parse_json("", "f.json", d2);
    CHECK(d2.has_errors());
    Diagnostics d3;
    parse_json("[1, 2]", "f.json", d3);
    CHECK(d3.has_errors());
}

TEST_CASE("json: a comma inside a string is not a trailing comma") {
    Diagnostics d;
    RawDoc doc = parse_json("{\"application\": {\"start\": \"echo a,}\"}}", "f.json", d);
    REQUIRE_FALSE(d.has_errors());
    CHECK(d.count(Severity::notice) == 0);
    CHECK(find(doc, "application", "start")->value.str == "echo a,}");
}

TEST_CASE("json: nesting deeper than a config can mean is refused, not recursed") {
    std::string deep = "{\"application\": {\"environment\": ";
    for (int i = 0; i < 100000; ++i) deep += "[";
    for (int i = 0; i < 100000; ++i) deep += "]";
    deep += "}}";
    Diagnostics d;
    parse_json(deep, "f.json", d);
    CHECK(d.has_errors());
}

TEST_CASE("toml: typed values, tables and positions") {
    Diagnostics d;
    RawDoc doc = parse_toml("[repository]\nremote_path = \"/x\"\n\n[application]\nstart = \"a\"\nenvironment = { PORT = 8080 }\n", "f.toml", d);
    REQUIRE_FALSE(d.has_errors());
    auto* rp = find(doc, "repository", "remote_path");
    REQUIRE(rp);
    CHECK(rp->loc.line == 2);
    CHECK(rp->loc.col == 1);
    auto* env = find(doc, "application", "environment");
    REQUIRE(env->value.kind == RawValue::Kind::table);
    CHECK(env->value.table[0].second.integer == 8080);
}

TEST_CASE("toml: syntax errors and duplicate keys give line and column") {
    Diagnostics d;
    parse_toml("[repository]\nremote_path = \"/x\nbranch = 1\n", "f.toml", d);
    REQUIRE(d.has_errors());
    CHECK(d.items()[0].loc.line == 2);
    Diagnostics d2;
    parse_toml("[repository]\nbranch = \"a\"\nbranch = \"b\"\n", "f.toml", d2);
    REQUIRE(d2.has_errors());
    CHECK(d2.items()[0].loc.line == 3);
}
