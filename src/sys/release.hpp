// The app's directory, /var/lib/huddle/APP: releases, the live symlink, the
// state file, the lock. Every write that others may read is atomic: write a
// temporary, fsync, rename(2) over the target.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "error.hpp"
#include "handles.hpp"

namespace huddle::sys {

std::string state_dir();                     // /var/lib/huddle, or HUDDLE_STATE_DIR
std::string app_dir(const std::string& app);  // state_dir()/APP

// Through PATH.tmp-huddle, created with O_EXCL | O_NOFOLLOW after removing
// whatever had that name (never followed). On failure the temporary is
// removed and PATH is as it was.
Status write_file_atomic(const std::string& path, const std::string& content, unsigned mode);

// What `local path` is now.
enum class LinkState { missing, ours, foreign };
// ours: a symlink into releases_dir; target is where it points.
LinkState inspect_link(const std::string& link, const std::string& releases_dir, std::string& target);

// Point link at target: a temporary symlink renamed over link.
Status switch_link(const std::string& link, const std::string& target);

Status mkdir_p(const std::string& path, unsigned mode);
// The directory PATH (never a symlink to one) owned UID:GID with MODE,
// through one fd: what PATH names cannot change in between.
Status own_dir(const std::string& path, unsigned uid, unsigned gid, unsigned mode);
Status remove_tree(const std::string& path);  // a missing PATH is no error
// A directory stream over a copy of DFD, from its first entry (the copy
// shares DFD's offset, which an earlier reading may have moved), DFD itself
// left open; null with errno set on failure.
DirPtr dir_stream(int dfd);
// chown -R; and when read_only, drop write permission for everyone but root.
// DROP_SPECIAL: symlinks, devices, fifos and sockets under PATH are removed,
// not taken over (a tree that never holds any: a repository's objects).
Status chown_tree(const std::string& path, unsigned uid, unsigned gid, bool read_only, bool drop_special = false);

// What the tree at PATH takes on disk, as du counts it, each entry at least
// a 4K block (an empty file costs an inode and a directory entry). Walked
// by directory fds; deeper than 256 levels is -ELOOP.
Result<uint64_t> tree_size(const std::string& path);

// One cycle per app at a time: an exclusive flock on APP/lock, released
// when the object goes. -EWOULDBLOCK (is_lock_held) when another holds it.
class AppLock {
public:
    static Result<std::unique_ptr<AppLock>> try_acquire(const std::string& path);

private:
    explicit AppLock(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

// Release directories (names are commits) other than those to keep, newest
// first: all but the KEEP newest finished ones and those in KEEP_ALWAYS.
std::vector<std::string> releases_to_prune(const std::string& releases_dir, const std::vector<std::string>& keep_always, unsigned keep);

}  // namespace huddle::sys
