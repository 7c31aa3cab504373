#include "cmdline.hpp"

namespace huddle {

SplitResult split_command(std::string_view s) {
    SplitResult r;
    std::string word;
    bool in_word = false;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (in_word) r.argv.push_back(std::move(word));
            word.clear();
            in_word = false;
        } else if (c == '\'') {
            size_t end = s.find('\'', i + 1);
            if (end == std::string_view::npos) {
                r.error = "unterminated single quote";
                r.error_offset = i;
                return r;
            }
            word.append(s.substr(i + 1, end - i - 1));
            in_word = true;
            i = end;
        } else if (c == '"') {
            size_t j = i + 1;
            for (; j < s.size() && s[j] != '"'; ++j) {
                // Inside double quotes a backslash escapes only these, as in sh.
                if (s[j] == '\\' && j + 1 < s.size() && (s[j + 1] == '"' || s[j + 1] == '\\' || s[j + 1] == '$' || s[j + 1] == '`'))
                    ++j;
                word.push_back(s[j]);
            }
            if (j >= s.size()) {
                r.error = "unterminated double quote";
                r.error_offset = i;
                return r;
            }
            in_word = true;
            i = j;
        } else if (c == '\\') {
            if (i + 1 >= s.size()) {
                r.error = "backslash at the end of the line escapes nothing";
                r.error_offset = i;
                return r;
            }
            word.push_back(s[++i]);
            in_word = true;
        } else {
            word.push_back(c);
            in_word = true;
        }
    }
    if (in_word) r.argv.push_back(std::move(word));
    if (r.argv.empty()) r.error = "is empty; write the program and its arguments";
    return r;
}

std::string quote_exec_argv(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) {
        if (!out.empty()) out += ' ';
        bool plain = !a.empty() && a.find_first_of(" \t\"'\\;%$\n") == std::string::npos;
        if (plain) {
            out += a;
            continue;
        }
        out += '"';
        for (char c : a) {
            switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '%': out += "%%"; break;
            default: out += c;
            }
        }
        out += '"';
    }
    return out;
}

}  // namespace huddle
