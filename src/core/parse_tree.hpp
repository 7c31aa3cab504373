// JSON and TOML both read into a tree of RawValue first; this turns the
// top-level table into sections, with the same messages for both formats.
#pragma once
#include "raw.hpp"

namespace huddle {

constexpr int kMaxNesting = 8;  // sections hold at most a table of lists

RawDoc doc_from_tree(RawValue&& root, const std::string& file, Diagnostics& diags);

}  // namespace huddle
