// Plans as text: unit files (what `systemctl cat` would show for the
// transient units) and JSON for tooling.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "plan.hpp"

namespace huddle {

std::string render_unit(const UnitPlan& u, const std::string& source_file);
std::string render_app(const AppPlan& p);
nlohmann::json plan_to_json(const AppPlan& p);
nlohmann::json property_value_json(const PropertyValue& v);

}  // namespace huddle
