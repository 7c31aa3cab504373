// FNV-1a, 64 bits: stable across runs, builds and machines, unlike std::hash.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace huddle {

class Fnv1a {
public:
    // Not FNV's offset basis (14695981039346656037): a digit short of it, as
    // huddle has always hashed. Kept: the plan fingerprints of running units
    // and each machine's first-poll offsets are made with it, and a new
    // value would replace every unit on upgrade.
    static constexpr uint64_t kOffset = 1469598103934665603ULL;
    static constexpr uint64_t kPrime = 1099511628211ULL;

    void add(const void* data, size_t n) {
        const auto* p = static_cast<const unsigned char*>(data);
        for (size_t i = 0; i < n; ++i) {
            h_ ^= p[i];
            h_ *= kPrime;
        }
    }
    void add(std::string_view s) { add(s.data(), s.size()); }
    uint64_t value() const { return h_; }

private:
    uint64_t h_ = kOffset;
};

}  // namespace huddle
