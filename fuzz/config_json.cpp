// Fuzz target: JSON config text -> model + diagnostics (load_config).
#include "check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace huddle;
    const std::string text(reinterpret_cast<const char*>(data), size);
    const std::string name = "my-app", file = "/etc/huddle/my-app.json";
    LoadResult r = load_config(name, file, Format::json, text);
    fuzz::check_diagnostics(r.diags, text, file);
    fuzz::check_model(r, name, file, Format::json);
    return 0;
}
