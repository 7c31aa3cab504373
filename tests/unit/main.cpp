// Catch2 2's main. With Catch2 3 the tests link Catch2WithMain instead, and
// tests/meson.build leaves this file out.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
