// Fuzz target: config text -> model -> unit plan -> unit-file text and JSON.
// The text is read as each of the three formats (a mutated input is rarely
// valid in more than one); every valid model is planned and its plan checked.
#include "check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace huddle;
    const std::string text(reinterpret_cast<const char*>(data), size);
    // Two machines: the default search path, and config directories whose
    // names need quoting and specifier escapes in ExecStart=.
    PlanContext ctx;
    if (size % 2) {
        ctx.fetch_binary = "/usr/local/bin/huddle-fetch";
        ctx.config_dirs = {"/srv/huddle configs/%h", "/run/$HOME\\\"x'"};
        ctx.machine_id = "0123456789abcdef0123456789abcdef";
    }
    static const struct {
        Format format;
        const char* name;
        const char* file;
    } kinds[] = {
        {Format::json, "my-app", "/etc/huddle/my-app.json"},
        {Format::ini, "web_1.v2", "/etc/huddle/web_1.v2.ini"},
        {Format::toml, "a+b", "/etc/huddle/a+b.toml"},
    };
    for (const auto& k : kinds) {
        if (k.format == Format::toml && fuzz::toml_unicode_skipped(text)) continue;
        LoadResult r = load_config(k.name, k.file, k.format, text);
        fuzz::check_model(r, k.name, k.file, k.format);
        if (r.config) fuzz::check_plan(*r.config, ctx);
    }
    return 0;
}
