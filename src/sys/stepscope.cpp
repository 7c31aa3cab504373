#include "stepscope.hpp"

#include <systemd/sd-login.h>

#include <csignal>
#include <cstdlib>

#include "core/plan.hpp"
#include "core/unitname.hpp"
#include "systemd.hpp"

namespace huddle::sys {
namespace {

constexpr usec_t kScopeWait = 30 * kUsecPerSec;

class SystemdStepScopes final : public StepScopes {
public:
    SystemdStepScopes(std::unique_ptr<Systemd> sd, const AppConfig& c) : sd_(std::move(sd)), app_(c.name), limits_(c.limits) {}

    Result<std::string> adopt(pid_t pid) override {
        UnitPlan u{"huddle-step-" + unit_name_escape(app_) + "-" + std::to_string(pid) + ".scope", UnitRole::app, {}};
        u.properties = {
            {"Description", "s", std::string("huddle step of ") + app_},
            {"PIDs", "au", uint64_t{static_cast<uint64_t>(pid)}},
            {"Slice", "s", std::string("huddle.slice")},
            {"MemoryMax", "t", limits_.memory},
            {"TasksMax", "t", limits_.tasks},
            // Stopping the scope is the end of the step: no grace period.
            {"KillSignal", "i", uint64_t{SIGKILL}},
            {"CollectMode", "s", std::string("inactive-or-failed")},
        };
        // Bound to the unit huddle-fetch runs in: a fetch unit stopped or
        // timed out takes its step with it. Not After= it: that unit is
        // still starting (a oneshot), and the scope would wait for it.
        char* own = nullptr;
        if (sd_pid_get_unit(0, &own) >= 0 && own) {
            u.properties.push_back({"BindsTo", "as", std::vector<std::string>{own}});
            std::free(own);
        }
        auto outcomes = sd_->start_transients({StartCall{app_, &u, {}}}, kScopeWait);
        if (outcomes.empty() || !outcomes[0].ok())
            return Error{outcomes.empty() ? -EIO : outcomes[0].status.code(),
                         "cannot put the step into a scope of its own (" + u.name + "): " +
                             (outcomes.empty() ? std::string("no answer") : outcomes[0].status.error().message)};
        return u.name;
    }

    Status end(const std::string& scope) override {
        Status st = sd_->stop_and_wait(scope, kScopeWait);
        if (!st && st.code() != -ENOENT) return Error{st.code(), "cannot stop " + scope + ": " + st.error().message};
        return {};
    }

private:
    std::unique_ptr<Systemd> sd_;
    std::string app_;
    LimitsConfig limits_;
};

}  // namespace

Result<std::unique_ptr<StepScopes>> systemd_step_scopes(const AppConfig& c) {
    auto sd = Systemd::connect(Systemd::Route::private_socket);
    if (!sd) return sd.error();
    return std::unique_ptr<StepScopes>(new SystemdStepScopes(std::move(*sd), c));
}

}  // namespace huddle::sys
