// Catch2 for the unit tests, whichever major version the release has:
// Debian 12 has Catch2 2 (one header), Debian 13 Catch2 3 (a header per part,
// Approx and the matchers renamed or moved). The tests use the 2.x names.
#pragma once

#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>

#include <string>

namespace Catch {
inline Matchers::StringContainsMatcher Contains(const std::string& text, CaseSensitive cs = CaseSensitive::Yes) {
    return Matchers::ContainsSubstring(text, cs);
}
}  // namespace Catch
using Catch::Approx;
#else
#include <catch2/catch.hpp>
#endif
