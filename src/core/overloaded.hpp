// std::visit over a variant with one lambda per alternative:
// std::visit(overloaded{[](const std::string& s) {...}, [](bool b) {...}}, v).
#pragma once

namespace huddle {

template <class... Ts>
struct overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

}  // namespace huddle
