// JSON through nlohmann's SAX interface: it gives document order, which lets
// us recover each key's line and column (the DOM keeps no positions).
#include <nlohmann/json.hpp>

#include <cctype>

#include "parse_tree.hpp"

namespace huddle {
namespace {

// Blank out commas that directly precede '}' or ']' (outside strings and
// comments). Huddle's own README shows such JSON, so it must load; offsets are
// kept, so every position reported later is still right. Only a comma after a
// value is trailing: in [,] or {"a": 1,,} the comma follows no value and stays,
// so the parser reports it.
std::vector<size_t> blank_trailing_commas(std::string& t) {
    std::vector<size_t> blanked;
    size_t pending = std::string::npos;
    bool after_value = false;
    for (size_t i = 0; i < t.size(); ++i) {
        char c = t[i];
        if (c == '"') {
            pending = std::string::npos;
            after_value = true;
            for (++i; i < t.size() && t[i] != '"'; ++i)
                if (t[i] == '\\') ++i;
        } else if (c == '/' && i + 1 < t.size() && t[i + 1] == '/') {
            while (i < t.size() && t[i] != '\n') ++i;
        } else if (c == '/' && i + 1 < t.size() && t[i + 1] == '*') {
            size_t end = t.find("*/", i + 2);
            i = end == std::string::npos ? t.size() : end + 1;
        } else if (c == ',') {
            pending = after_value ? i : std::string::npos;
            after_value = false;
        } else if (c == '}' || c == ']') {
            if (pending != std::string::npos) {
                t[pending] = ' ';
                blanked.push_back(pending);
            }
            pending = std::string::npos;
            after_value = true;
        } else if (c == '[' || c == '{' || c == ':') {
            pending = std::string::npos;
            after_value = false;
        } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            pending = std::string::npos;
            after_value = true;
        }
    }
    return blanked;
}

// The text with comments blanked (same offsets), so searching it for a key
// never lands in a comment.
std::string without_comments(const std::string& t) {
    std::string out = t;
    for (size_t i = 0; i < out.size(); ++i) {
        if (out[i] == '"') {
            for (++i; i < out.size() && out[i] != '"'; ++i)
                if (out[i] == '\\') ++i;
        } else if (out[i] == '/' && i + 1 < out.size() && (out[i + 1] == '/' || out[i + 1] == '*')) {
            bool line = out[i + 1] == '/';
            size_t end = line ? out.find('\n', i) : out.find("*/", i + 2);
            end = end == std::string::npos ? out.size() : (line ? end : end + 2);
            for (size_t k = i; k < end; ++k)
                if (out[k] != '\n') out[k] = ' ';
            i = end - 1;
        }
    }
    return out;
}

class Sax : public nlohmann::json_sax<nlohmann::json> {
public:
    Sax(const std::string& text, const std::string& file, Diagnostics& diags)
        : text_(text), search_(without_comments(text)), file_(file), diags_(diags) {}

    RawValue root;
    bool root_seen = false;

    bool null() override {
        if (stack_.empty()) return not_an_object("null");
        RawValue v = scalar();
        v.kind = RawValue::Kind::string;
        v.untyped = false;
        diags_.error(v.loc, pending_key_, "null is not a value here; remove the key to use its default");
        return true;
    }
    bool boolean(bool b) override {
        RawValue v = scalar();
        v.kind = RawValue::Kind::boolean;
        v.boolean = b;
        return put(std::move(v));
    }
    bool number_integer(number_integer_t n) override {
        RawValue v = scalar();
        v.kind = RawValue::Kind::integer;
        v.integer = n;
        return put(std::move(v));
    }
    bool number_unsigned(number_unsigned_t n) override {
        RawValue v = scalar();
        if (n > static_cast<number_unsigned_t>(INT64_MAX)) {
            v.kind = RawValue::Kind::floating;
            v.floating = static_cast<double>(n);
        } else {
            v.kind = RawValue::Kind::integer;
            v.integer = static_cast<int64_t>(n);
        }
        return put(std::move(v));
    }
    bool number_float(number_float_t f, const string_t&) override {
        RawValue v = scalar();
        v.kind = RawValue::Kind::floating;
        v.floating = f;
        return put(std::move(v));
    }
    bool string(string_t& s) override {
        RawValue v = scalar();
        v.kind = RawValue::Kind::string;
        v.str = s;
        // Keep the literal as written, so a position inside the decoded text
        // can be mapped back past escapes.
        if (value_off_ < text_.size() && text_[value_off_] == '"') {
            size_t end = value_off_ + 1;
            while (end < text_.size() && text_[end] != '"') end += text_[end] == '\\' ? 2 : 1;
            if (end < text_.size()) v.source = text_.substr(value_off_, end - value_off_ + 1);
        }
        return put(std::move(v));
    }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return open(RawValue::Kind::table); }
    bool end_object() override { return close(); }
    bool start_array(std::size_t) override { return open(RawValue::Kind::list); }
    bool end_array() override { return close(); }
    bool key(string_t& k) override {
        pending_key_ = k;
        // Keys arrive in document order and the cursor sits past the previous
        // key's colon, so this key is the next string followed by ':'. Found
        // by the syntax rather than by its text, since the text may be
        // written with escapes ("\u0061" for "a"). Strings between are values.
        size_t at = std::string::npos, end = std::string::npos;
        for (size_t i = cursor_; i < search_.size(); ++i) {
            if (search_[i] != '"') continue;
            size_t j = i + 1;
            while (j < search_.size() && search_[j] != '"') j += search_[j] == '\\' ? 2 : 1;
            if (j >= search_.size()) break;
            if (at == std::string::npos) at = i, end = j + 1;  // no colon follows: a syntax error comes next
            size_t next = search_.find_first_not_of(" \t\r\n", j + 1);
            if (next != std::string::npos && search_[next] == ':') {
                at = i, end = j + 1;
                break;
            }
            i = j;
        }
        if (at != std::string::npos) {
            key_loc_ = loc_of_offset_cached(at);
            size_t colon = search_.find(':', end);
            cursor_ = colon == std::string::npos ? end : colon + 1;
            size_t val = search_.find_first_not_of(" \t\r\n", cursor_);
            value_loc_ = val == std::string::npos ? key_loc_ : loc_of_offset_cached(val);
            value_off_ = val == std::string::npos ? std::string::npos : val;
        }
        return true;
    }
    bool parse_error(std::size_t position, const std::string& last_token, const nlohmann::detail::exception& ex) override {
        if (search_.find_first_not_of(" \t\r\n") == std::string::npos) {
            diags_.error({file_, 1, 1}, "", "empty file; a config needs at least {\"repository\": {\"remote path\": \"...\"}}");
            return false;
        }
        std::string what = ex.what();
        // nlohmann's message is "[json.exception.parse_error.101] parse error at line L, column C: syntax error while parsing ..."
        size_t colon = what.find(": ", what.find("column"));
        std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
        // "; last read: '...'" repeats the lexer's buffer, which is shown below as it is in the file.
        detail = detail.substr(0, detail.find("; last read:"));
        // position counts the bytes read, through the offending one (or the
        // end of input). last_token is the offending token only for strings
        // and numbers (with control characters shown as <U+XXXX>): for
        // anything else the lexer's buffer still holds all that was read since
        // the last string or number.
        size_t dash = detail.find(" - ");
        std::string failed = dash == std::string::npos ? detail : detail.substr(dash + 3);
        auto is = [&](const char* p) { return failed.rfind(p, 0) == 0; };
        size_t pos = std::min(position, text_.size()), start;
        if (is("invalid string") || is("invalid number") || is("unexpected string literal") || is("unexpected number literal")) {
            size_t raw = last_token.size();
            for (size_t u = last_token.find("<U+"); u != std::string::npos; u = last_token.find("<U+", u + 1)) raw -= 7;
            start = pos > raw ? pos - raw : 0;
        } else if (is("unexpected end of input")) {
            // Just after the last thing written.
            start = search_.find_last_not_of(" \t\r\n");
            start = start == std::string::npos ? 0 : start + 1;
        } else {
            start = pos > 0 ? pos - 1 : 0;
            // A literal, misspelt or not (tru, nul, an unquoted word): from its first letter.
            if (is("invalid literal") || is("unexpected true literal") || is("unexpected false literal") || is("unexpected null literal"))
                while (start > 0 && std::isalpha(static_cast<unsigned char>(text_[start - 1]))) --start;
        }
        std::string near = text_.substr(start, std::min<size_t>(40, text_.find_first_of("\r\n", start) - start));
        diags_.error(loc_of_offset_cached(start), "", "invalid JSON: " + detail + (near.empty() ? "" : " (near '" + near + "')"));
        return false;
    }

private:
    Loc loc_of_offset_cached(size_t offset) {
        // Positions are asked for in increasing order; continue from the last.
        if (offset < memo_off_) {
            memo_off_ = 0;
            memo_ = {file_, 1, 1};
        }
        advance_loc(memo_, text_, memo_off_, offset);
        memo_off_ = std::min(offset, text_.size());
        return memo_;
    }

    RawValue scalar() {
        RawValue v;
        v.loc = stack_.empty() || stack_.back()->kind == RawValue::Kind::table ? value_loc_ : key_loc_;
        v.loc.file = file_;
        return v;
    }

    // The document is a list or a plain value: one error, and stop there.
    bool not_an_object(const char* what) {
        size_t first = search_.find_first_not_of(" \t\r\n");
        diags_.error(loc_of_offset_cached(first == std::string::npos ? 0 : first), "",
                     std::string("the file must hold one JSON object, {\"repository\": {...}, ...}, not ") + what);
        return false;
    }

    bool put(RawValue&& v) {
        if (stack_.empty())
            return not_an_object(v.kind == RawValue::Kind::string ? "a string" : v.kind == RawValue::Kind::boolean ? "a boolean" : "a number");
        if (depth_ > kMaxNesting) return true;
        RawValue* top = stack_.back();
        if (top->kind == RawValue::Kind::table) {
            v.key_loc = key_loc_;
            v.key_loc.file = file_;
            top->table.emplace_back(pending_key_, std::move(v));
        }
        else
            top->list.push_back(std::move(v));
        return true;
    }

    bool open(RawValue::Kind kind) {
        ++depth_;
        if (depth_ > kMaxNesting) {
            if (depth_ == kMaxNesting + 1) {
                // Named "[section] key", the value written in the section.
                std::string label = stack_.size() > 2 && stack_[1]->kind == RawValue::Kind::table
                                        ? "[" + root.table.back().first + "] " + stack_[1]->table.back().first
                                        : pending_key_;
                diags_.error(value_loc_, label, "nested too deeply; values are at most a list or table inside a section");
            }
            return true;
        }
        RawValue v = scalar();
        v.kind = kind;
        if (stack_.empty()) {
            if (kind != RawValue::Kind::table) return not_an_object("a list");
            root = std::move(v);
            root.kind = RawValue::Kind::table;
            root_seen = true;
            stack_.push_back(&root);
            return true;
        }
        RawValue* top = stack_.back();
        RawValue* child;
        if (top->kind == RawValue::Kind::table) {
            v.key_loc = key_loc_;
            v.key_loc.file = file_;
            top->table.emplace_back(pending_key_, std::move(v));
            child = &top->table.back().second;
        } else {
            top->list.push_back(std::move(v));
            child = &top->list.back();
        }
        stack_.push_back(child);
        return true;
    }

    bool close() {
        if (depth_-- > kMaxNesting) return true;
        if (!stack_.empty()) stack_.pop_back();
        return true;
    }

    const std::string& text_;
    std::string search_;
    const std::string& file_;
    Diagnostics& diags_;
    std::vector<RawValue*> stack_;
    std::string pending_key_;
    size_t cursor_ = 0;
    size_t value_off_ = std::string::npos;
    int depth_ = 0;
    Loc key_loc_, value_loc_;
    size_t memo_off_ = 0;
    Loc memo_{file_, 1, 1};
};

}  // namespace

RawDoc parse_json(const std::string& input, const std::string& file, Diagnostics& diags) {
    std::string text = input;
    for (size_t off : blank_trailing_commas(text))
        diags.notice(loc_of_offset(text, off, file), "", "trailing comma accepted; strict JSON tools reject it, so consider removing it");
    Sax sax(text, file, diags);
    bool ok = nlohmann::json::sax_parse(text, &sax, nlohmann::json::input_format_t::json, true, /*ignore_comments=*/true);
    if (!ok || !sax.root_seen) {
        if (ok) diags.error({file, 1, 1}, "", "empty file; a config needs at least {\"repository\": {\"remote path\": \"...\"}}");
        return {};
    }
    return doc_from_tree(std::move(sax.root), file, diags);
}

}  // namespace huddle
