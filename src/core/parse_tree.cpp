#include "parse_tree.hpp"

namespace huddle {

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
