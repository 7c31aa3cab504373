// src/sys's one error convention, as systemd's: a negative errno saying what
// kind of failure it is (callers decide on that, never on the text) and a
// message saying what failed, where, and what to do. Functions here return
// it; the deploy cycle and the binaries log it once.
#pragma once
#include <cerrno>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace huddle::sys {

struct Error {
    int code = -EIO;  // negative errno
    std::string message;
};

// errno's text after CONTEXT ("path: No such file or directory"), ERR positive or negative.
Error errno_error(int err, const std::string& context);

// Codes callers act on.
// systemd gave no answer (busy past the call timeout, connection lost): no
// verdict on the unit, so no verdict on the release.
inline bool is_no_answer(int code) {
    return code == -ETIMEDOUT || code == -ENOTCONN || code == -ECONNRESET || code == -EPIPE || code == -ESHUTDOWN;
}
// Another process holds the lock (a deploy cycle of the same app).
inline bool is_lock_held(int code) { return code == -EWOULDBLOCK; }

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error e) : v_(std::move(e)) {}
    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& operator*() { return std::get<0>(v_); }
    const T& operator*() const { return std::get<0>(v_); }
    T* operator->() { return &std::get<0>(v_); }
    const T* operator->() const { return &std::get<0>(v_); }
    const Error& error() const { return std::get<1>(v_); }
    int code() const { return ok() ? 0 : error().code; }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error e) : e_(std::move(e)) {}
    bool ok() const { return !e_; }
    explicit operator bool() const { return ok(); }
    const Error& error() const { return *e_; }
    int code() const { return e_ ? e_->code : 0; }

private:
    std::optional<Error> e_;
};

using Status = Result<void>;

}  // namespace huddle::sys
