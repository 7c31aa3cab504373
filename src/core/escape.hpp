// Text that came from a remote (ref names, a server's error message) on its
// way to a log line or a terminal: control bytes, C1 controls and bytes that
// are not UTF-8 shown as \xNN, a backslash as \\, so that it can neither
// move the cursor, recolour the terminal, nor start a line of its own.
#pragma once
#include <string>
#include <string_view>

namespace huddle {

std::string escape_untrusted(std::string_view text);

}  // namespace huddle
