// File-system reads the loaders need. Errors carry the path; nothing here logs.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/sources.hpp"
#include "error.hpp"

namespace huddle::sys {

constexpr size_t kMaxConfigBytes = 16 * 1024 * 1024;

// The file's bytes; -EFBIG past MAX_BYTES, -EINVAL when not a regular file.
Result<std::string> read_file(const std::string& path, size_t max_bytes = kMaxConfigBytes);

// A missing directory is an empty listing: most of the search path usually
// does not exist.
DirListing list_dir(const std::string& dir);

std::string machine_id();  // /etc/machine-id, or "" when absent

// Whether someone other than root (or the user running this) could change
// the file at `path`: its owner, group/other write bits, and the same for its
// directory, after following symlinks (the target is what gets read).
// "" when safe, else what is wrong and how to fix it. With `secret`, group
// or other read access is refused too, as ssh does for private keys.
std::string unsafe_permissions(const std::string& path, bool secret = false);

}  // namespace huddle::sys
