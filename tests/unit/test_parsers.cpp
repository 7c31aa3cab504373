#include "catch.hpp"

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
    // The empty first line is an item too: joined by "\n", the items are
    // configparser's value ("\nnpm ci\nnpm test").
    REQUIRE(b->value.list.size() == 3);
    CHECK(b->value.list[0].str.empty());
    CHECK(b->value.list[1].str == "npm ci");
    CHECK(b->value.list[2].str == "npm test");
    CHECK(b->value.list[2].loc.line == 4);
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

TEST_CASE("toml: other than ASCII only in strings and comments") {
    // Letters beyond ASCII in strings of every kind, and in comments, are fine.
    Diagnostics ok;
    parse_toml("# größe\n[application]\nstart = \"echo \\\" ü\"\nworking_directory = 'é'\n"
               "environment = { A = \"\"\"\nä\\\"\"\"\"\", B = '''\nß'''' }  # 名前\n",
               "f.toml", ok);
    CHECK_FALSE(ok.has_errors());
    // A bare key may not hold them (and toml++ 3.3.0 misbehaves on some).
    Diagnostics bad;
    parse_toml("[repository]\nremote_päth = \"/x\"\n", "f.toml", bad);
    REQUIRE(bad.items().size() == 1);
    CHECK(bad.items()[0].loc.line == 2);
    CHECK(bad.items()[0].loc.col == 9);
    CHECK(bad.items()[0].message.find("in quotes") != std::string::npos);
}

TEST_CASE("toml: letters toml++ cannot classify reach it as stand-ins and come back unchanged") {
    // U+00FC, U+3007 and U+FB30 are each in one of toml++ 3.3's blocks without
    // an answer; in keys and values of every string kind they read back as
    // written, and a bare value toml++ scans quotes and all is an error.
    const std::string word = "gr\xC3\xBC\xC3\x9F \xE3\x80\x87 \xEF\xAC\xB0";
    Diagnostics ok;
    RawDoc doc = parse_toml("[application]\nstart = \"" + word + "\"\nuser = '" + word + "'\nenvironment = { \"" + word + "\" = \"\"\"" + word +
                                "\"\"\" }\n",
                            "f.toml", ok);
    REQUIRE_FALSE(ok.has_errors());
    REQUIRE(doc.sections.size() == 1);
    const auto& e = doc.sections[0].entries;
    REQUIRE(e.size() == 3);
    CHECK(e[0].value.str == word);
    CHECK(e[1].value.str == word);
    REQUIRE(e[2].value.table.size() == 1);
    CHECK(e[2].value.table[0].first == word);
    CHECK(e[2].value.table[0].second.str == word);
    Diagnostics bad;
    parse_toml("[repository]\nremote_path = 9;97105-27T0exec7:[\"\xC3\x80\"]\n", "f.toml", bad);
    CHECK(bad.has_errors());
    // A glyph of the BMP's Private Use Area (a Powerline arrow, U+E0B0) next
    // to such a letter reads back as written.
    Diagnostics glyph;
    RawDoc g = parse_toml("[application]\nstart = \"\xC3\xBC \xEE\x82\xB0\"\n", "f.toml", glyph);
    REQUIRE_FALSE(glyph.has_errors());
    CHECK(g.sections[0].entries[0].value.str == "\xC3\xBC \xEE\x82\xB0");
    // Plane 15's first characters, raw or escaped, next to such letters cannot
    // be told apart from the stand-ins: refused, said so.
    for (const std::string text : {"\xF3\xB0\x80\x80", "\\U000F0000", "\\U000f0123"}) {
        INFO(text);
        Diagnostics clash;
        parse_toml("[application]\nstart = \"\xC3\xBC " + text + "\"\n", "f.toml", clash);
        REQUIRE(clash.has_errors());
        CHECK(clash.items()[0].message.find("Private Use Area") != std::string::npos);
    }
}

TEST_CASE("json: a document that is not an object is one error with a position") {
    for (const char* text : {"[1, 2]", "42", "\"x\"", "null", "\n  true", "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]"}) {
        INFO(text);
        Diagnostics d;
        parse_json(text, "f.json", d);
        REQUIRE(d.count(Severity::error) == 1);
        CHECK(d.items()[0].loc.line >= 1);
        CHECK(d.items()[0].loc.file == "f.json");
        CHECK_THAT(d.items()[0].message, Catch::Contains("one JSON object"));
    }
    Diagnostics d;
    parse_json("\n  \n// nothing\n", "f.json", d);
    REQUIRE(d.count(Severity::error) == 1);
    CHECK_THAT(d.items()[0].message, Catch::Contains("empty file"));
}

TEST_CASE("json: syntax errors point at the offending token, not at the last string") {
    struct Row {
        const char* text;
        int line, col;
    };
    const Row rows[] = {
        {"{\"a\": {\"b\": \"x\"}}\n{\"c\": 1}\n", 2, 1},    // a second document
        {"{\"a\": {\"b\": \"x\" \"c\": 1}}", 1, 17},         // missing comma: at the string that follows
        {"{\"a\": {\"b\": \"x\", \"c\": tru}}", 1, 23},      // misspelt literal: at its first letter
        {"{\"a\": {\"b\": \"x\", \"c\": 5 true}}", 1, 25},   // a literal where '}' belongs
        {"{\"a\": {\"b\": \"x\", \"c\": \"ab\n\"}}", 1, 23},  // a raw line break in a string: at its quote
        {"{\"a\": {\"b\": [\"x\"\n\n", 1, 17},               // end of input: after the last thing written
    };
    for (const auto& r : rows) {
        INFO(r.text);
        Diagnostics d;
        parse_json(r.text, "f.json", d);
        REQUIRE(d.count(Severity::error) == 1);
        CHECK(d.items()[0].loc.line == r.line);
        CHECK(d.items()[0].loc.col == r.col);
    }
}

TEST_CASE("toml: keys keep the order they are written in") {
    Diagnostics d;
    RawDoc doc = parse_toml("[timing]\nminimum = 1\n[repository]\nremote_path = \"/x\"\n\"remote path\" = \"/y\"\nbranch = \"b\"\n", "f.toml", d);
    REQUIRE_FALSE(d.has_errors());
    REQUIRE(doc.sections.size() == 2);
    CHECK(doc.sections[0].name == "timing");
    const auto& e = doc.sections[1].entries;
    REQUIRE(e.size() == 3);
    CHECK(e[0].key == "remote_path");
    CHECK(e[1].key == "remote path");
    CHECK(e[2].key == "branch");
}

TEST_CASE("ini: byte order mark, lone CR line ends, one error for a broken header") {
    Diagnostics d;
    RawDoc doc = parse_ini("\xef\xbb\xbf[repository]\rremote path = /x\rbranch = b\r", "f.ini", d);
    REQUIRE_FALSE(d.has_errors());
    REQUIRE(find(doc, "repository", "branch"));
    CHECK(find(doc, "repository", "branch")->loc.line == 3);
    CHECK(doc.sections[0].loc.line == 1);
    Diagnostics d2;
    parse_ini("\xef\xbb\xbf[repository]\nremote path = /x\ngarbage\n", "f.ini", d2);
    REQUIRE(d2.count(Severity::error) == 1);
    CHECK(d2.items()[0].loc.line == 3);
    Diagnostics d3;
    parse_ini("[repository\nremote path = /x\nbranch = b\n", "f.ini", d3);
    REQUIRE(d3.count(Severity::error) == 1);
    CHECK_THAT(d3.items()[0].message, Catch::Contains("closing ']'"));
}

TEST_CASE("ini: a continued line starting with '[' is text; an indented header continues the value, with a notice") {
    Diagnostics d;
    RawDoc doc = parse_ini("[deploy]\nbuild = make\n  [ -f x ] && make install\n", "f.ini", d);
    REQUIRE_FALSE(d.has_errors());
    REQUIRE(doc.sections.size() == 1);
    REQUIRE(find(doc, "deploy", "build")->value.list.size() == 2);
    CHECK(find(doc, "deploy", "build")->value.list[1].str == "[ -f x ] && make install");
    Diagnostics d2;
    RawDoc doc2 = parse_ini("[repository]\nremote path = /x\n  [application]\nstart = a\n", "f.ini", d2);
    REQUIRE(d2.count(Severity::notice) == 1);
    CHECK(d2.items()[0].loc.line == 3);
    CHECK(d2.items()[0].loc.col == 3);
    CHECK_THAT(d2.items()[0].message, Catch::Contains("not a section header"));
    REQUIRE(find(doc2, "repository", "start"));
    CHECK(find(doc2, "repository", "remote path")->value.list.size() == 2);
    Diagnostics d3;
    RawDoc doc3 = parse_ini("[ repository ]\nremote path = /x\n", "f.ini", d3);
    REQUIRE_FALSE(d3.has_errors());
    REQUIRE(doc3.sections.size() == 1);
    CHECK(doc3.sections[0].loc.line == 1);    // the same header twice in a row is two sections, each with its own keys
    Diagnostics d4;
    RawDoc doc4 = parse_ini("[deploy]\nbuild = a\n[deploy]\nbuild = b\n", "f.ini", d4);
    REQUIRE(doc4.sections.size() == 2);
    CHECK(doc4.sections[1].loc.line == 3);
    REQUIRE(doc4.sections[1].entries.size() == 1);
    CHECK(doc4.sections[1].entries[0].loc.line == 4);
}

namespace {
// A value as configparser's get() returns it: the lines joined by "\n".
std::string text_of(const RawEntry* e) {
    REQUIRE(e);
    if (e->value.kind != RawValue::Kind::list) return e->value.str;
    std::string s;
    for (size_t i = 0; i < e->value.list.size(); ++i) s += (i ? "\n" : "") + e->value.list[i].str;
    return s;
}
}  // namespace

TEST_CASE("ini: an indented key after a header or a comment is a key, as for configparser") {
    Diagnostics d;
    RawDoc doc = parse_ini("[timing]\n    minimum = 300\n    maximum = 600\n[scripts]\n# c\n  pre-pull = a\n  post-pull = b\n", "f.ini", d);
    REQUIRE_FALSE(d.has_errors());
    CHECK(text_of(find(doc, "timing", "minimum")) == "300");
    CHECK(text_of(find(doc, "timing", "maximum")) == "600");
    CHECK(find(doc, "timing", "maximum")->loc.col == 5);
    CHECK(text_of(find(doc, "scripts", "pre-pull")) == "a");
    CHECK(text_of(find(doc, "scripts", "post-pull")) == "b");
    // Deeper than its key's line continues it; as deep is a new key.
    Diagnostics d2;
    RawDoc doc2 = parse_ini("[deploy]\n  build = a\n      b\n  verify = c\n", "f.ini", d2);
    REQUIRE_FALSE(d2.has_errors());
    CHECK(text_of(find(doc2, "deploy", "build")) == "a\nb");
    CHECK(text_of(find(doc2, "deploy", "verify")) == "c");
}

TEST_CASE("ini: an indented line with no value open is an error; blank and comment lines inside a value") {
    Diagnostics d;
    parse_ini("[application]\n  /bin/app --verbose\n", "f.ini", d);
    REQUIRE(d.count(Severity::error) == 1);
    CHECK(d.items()[0].loc.line == 2);
    CHECK_THAT(d.items()[0].message, Catch::Contains("no value above it"));
    Diagnostics d2;
    RawDoc doc = parse_ini("[deploy]\nbuild = a\n\n  # not part of it\n  b\n\n\nverify = c\n", "f.ini", d2);
    REQUIRE_FALSE(d2.has_errors());
    CHECK(text_of(find(doc, "deploy", "build")) == "a\n\nb");  // trailing blank lines dropped, the inner one kept
}

TEST_CASE("ini: %% and %(name)s as BasicInterpolation, with a notice; a lone % kept with a notice") {
    Diagnostics d;
    RawDoc doc = parse_ini("[repository]\nremote path = https://x/my%%20app.git\nbranch = main\nlocal path = /srv/app-%(branch)s\n"
                           "[application]\nstart = /bin/date +%%s\nuser = 100%\n",
                           "f.ini", d);
    REQUIRE_FALSE(d.has_errors());
    CHECK(text_of(find(doc, "repository", "remote path")) == "https://x/my%20app.git");
    CHECK(text_of(find(doc, "repository", "local path")) == "/srv/app-main");
    CHECK(find(doc, "repository", "local path")->written == "/srv/app-%(branch)s");
    CHECK(text_of(find(doc, "application", "start")) == "/bin/date +%s");
    CHECK(text_of(find(doc, "application", "user")) == "100%");
    CHECK(d.count(Severity::notice) == 4);  // three changed values, one kept '%'
}

TEST_CASE("ini: [DEFAULT] is inherited where a section knows the key, and feeds interpolation") {
    Diagnostics d;
    RawDoc doc = parse_ini("[DEFAULT]\nbase = /srv\nuser = web\nbranch = prod\n[repository]\nremote path = /x\nlocal path = %(base)s/app\n"
                           "[application]\nstart = a\nuser = other\n[DEFAULT]\ngroup = g\n",
                           "f.ini", d);
    REQUIRE_FALSE(d.has_errors());
    CHECK(text_of(find(doc, "repository", "local path")) == "/srv/app");
    CHECK(text_of(find(doc, "repository", "branch")) == "prod");
    CHECK(find(doc, "repository", "branch")->inherited);
    CHECK(text_of(find(doc, "application", "user")) == "other");  // the section's own value wins
    CHECK(text_of(find(doc, "application", "group")) == "g");      // [DEFAULT] opened twice is one section
    CHECK_FALSE(find(doc, "repository", "user"));                    // [repository] has no 'user'
    CHECK_FALSE(find(doc, "application", "base"));
    CHECK(d.count(Severity::notice) == 1);  // the interpolated local path; 'base' is referenced
}

TEST_CASE("ini: a reference to no key, a bad reference and a loop are errors naming the key") {
    for (const char* v : {"%(nothing)s", "%(branch)d", "%(a)s"}) {
        Diagnostics d;
        parse_ini(std::string("[DEFAULT]\na = %(b)s\nb = %(a)s\n[repository]\nremote path = /x\nlocal path = /srv/") + v + "\n", "f.ini", d);
        REQUIRE(d.count(Severity::error) == 1);
        CHECK(d.items()[0].loc.line == 6);
        CHECK(d.items()[0].key == "[repository] local path");
    }
}

TEST_CASE("ini: line length never changes how a line is read") {
    std::string key(150, 'k');
    Diagnostics d;
    RawDoc doc = parse_ini("[repository]\n" + key + " = a ; b\n", "f.ini", d);
    REQUIRE_FALSE(d.has_errors());
    CHECK(text_of(find(doc, "repository", key)) == "a ; b");
}

TEST_CASE("ini: a %(name)s reference ignores letter case as Python's str.lower() does") {
    Diagnostics d;
    RawDoc doc = parse_ini("[DEFAULT]\ncafé = /srv\nЯдро = k\nŸ = y\n[repository]\nremote path = /x\nlocal path = %(CAFÉ)s/%(яДРО)s/%(ÿ)s\n", "f.ini", d);
    REQUIRE_FALSE(d.has_errors());
    CHECK(text_of(find(doc, "repository", "local path")) == "/srv/k/y");
}
