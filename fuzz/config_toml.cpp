// Fuzz target: TOML config text -> model + diagnostics (load_config).
#include "check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace huddle;
    const std::string text(reinterpret_cast<const char*>(data), size);
    if (fuzz::toml_unicode_skipped(text)) return 0;
    const std::string name = "my-app", file = "/etc/huddle/my-app.toml";
    LoadResult r = load_config(name, file, Format::toml, text);
    fuzz::check_diagnostics(r.diags, text, file);
    fuzz::check_model(r, name, file, Format::toml);
    return 0;
}
