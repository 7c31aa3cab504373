// The app's directory, /var/lib/huddle/APP: releases, the live symlink, the
// state file, the lock. Every write that others may read is atomic: write a
// temporary, fsync, rename(2) over the target.
#pragma once
#include <memory>
#include <string>
#include <vector>

namespace huddle::sys {

std::string app_dir(const std::string& app);  // /var/lib/huddle/APP (HUDDLE_STATE_DIR overrides the base)

int write_file_atomic(const std::string& path, const std::string& content, unsigned mode, std::string& error);

// What `local path` is now.
enum class LinkState { missing, ours, foreign };
// ours: a symlink into releases_dir; target is where it points.
LinkState inspect_link(const std::string& link, const std::string& releases_dir, std::string& target);

// Point link at target: a temporary symlink renamed over link.
int switch_link(const std::string& link, const std::string& target, std::string& error);

int mkdir_p(const std::string& path, unsigned mode, std::string& error);
int remove_tree(const std::string& path);
// chown -R; and when read_only, drop write permission for everyone but root.
int chown_tree(const std::string& path, unsigned uid, unsigned gid, bool read_only, std::string& error);

// One cycle per app at a time: an exclusive flock on APP/lock.
class AppLock {
public:
    static std::unique_ptr<AppLock> try_acquire(const std::string& path, std::string& error);
    ~AppLock();

private:
    explicit AppLock(int fd) : fd_(fd) {}
    int fd_;
};

// Release directories (names are commits) other than those to keep, oldest first.
std::vector<std::string> releases_to_prune(const std::string& releases_dir, const std::vector<std::string>& keep_always, unsigned keep);

}  // namespace huddle::sys
