#include "parse_tree.hpp"

namespace huddle {

Loc loc_of_offset(const std::string& text, size_t offset, const std::string& file) {
    Loc loc{file, 1, 1};
    for (size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            loc.line++;
            loc.col = 1;
        } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
            loc.col++;  // count characters, not UTF-8 continuation bytes
        }
    }
    return loc;
}

RawDoc doc_from_tree(RawValue&& root, const std::string& file, Diagnostics& diags) {
    RawDoc doc;
    for (auto& [name, value] : root.table) {
        if (value.kind != RawValue::Kind::table) {
            diags.error(value.loc, name,
                        "top-level keys are sections and must hold a table of keys: in TOML [repository] (not [[repository]]), "
                        "in JSON \"repository\": { \"remote path\": ... }");
            continue;
        }
        RawSection sec{name, value.key_loc.line ? value.key_loc : value.loc, {}};
        sec.loc.file = file;
        for (auto& [key, v] : value.table) {
            Loc kl = v.key_loc.line ? v.key_loc : v.loc;
            sec.entries.push_back({key, kl, std::move(v), std::nullopt, false});
        }
        doc.sections.push_back(std::move(sec));
    }
    return doc;
}

}  // namespace huddle
