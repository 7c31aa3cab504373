// Every C handle src/sys holds has one owner: a file descriptor, a DIR*,
// sd-bus objects and errors, libgit2 objects. Freed on every path, once.
#pragma once
#include <dirent.h>
#include <git2.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <memory>
#include <utility>

namespace huddle::sys {

// An fd closed when its owner goes; moved, never copied.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept {
        reset(o.release());
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }
    // close(2) with its result, for writes whose errors show only there.
    int close() {
        int r = fd_ >= 0 ? ::close(fd_) : 0;
        fd_ = -1;
        return r;
    }

private:
    int fd_ = -1;
};

// A unique_ptr deleter calling FN.
template <auto Fn>
struct FreeWith {
    template <class T>
    void operator()(T* p) const {
        if (p) Fn(p);
    }
};

using DirPtr = std::unique_ptr<DIR, FreeWith<::closedir>>;

using BusPtr = std::unique_ptr<sd_bus, FreeWith<sd_bus_flush_close_unref>>;
using BusMessagePtr = std::unique_ptr<sd_bus_message, FreeWith<sd_bus_message_unref>>;
using BusSlotPtr = std::unique_ptr<sd_bus_slot, FreeWith<sd_bus_slot_unref>>;

// An sd_bus_error freed when it goes out of scope.
class BusError {
public:
    BusError() = default;
    BusError(const BusError&) = delete;
    BusError& operator=(const BusError&) = delete;
    ~BusError() { sd_bus_error_free(&e_); }
    sd_bus_error* get() { return &e_; }
    const sd_bus_error& operator*() const { return e_; }
    bool has_name(const char* name) const { return sd_bus_error_has_name(&e_, name); }

private:
    sd_bus_error e_ = SD_BUS_ERROR_NULL;
};

using GitRepositoryPtr = std::unique_ptr<git_repository, FreeWith<git_repository_free>>;
using GitRemotePtr = std::unique_ptr<git_remote, FreeWith<git_remote_free>>;
using GitCommitPtr = std::unique_ptr<git_commit, FreeWith<git_commit_free>>;
using GitTreePtr = std::unique_ptr<git_tree, FreeWith<git_tree_free>>;
using GitDiffPtr = std::unique_ptr<git_diff, FreeWith<git_diff_free>>;
using GitOdbPtr = std::unique_ptr<git_odb, FreeWith<git_odb_free>>;
using GitOdbObjectPtr = std::unique_ptr<git_odb_object, FreeWith<git_odb_object_free>>;
using GitTagPtr = std::unique_ptr<git_tag, FreeWith<git_tag_free>>;

}  // namespace huddle::sys
