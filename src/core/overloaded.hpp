// std::visit over a variant with one lambda per alternative.
#pragma once

namespace huddle {

template <class... Ts>
struct overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

}  // namespace huddle
