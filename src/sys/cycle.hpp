// The deploy cycle's steps, shared by cycle.cpp (the poll and its
// decisions), phases.cpp (build, switch, restart, settle) and rollback.cpp.
// Private to src/sys. Only the Cycle logs; what it calls returns errors.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/decide.hpp"
#include "core/state.hpp"
#include "deploy.hpp"
#include "log.hpp"
#include "slots.hpp"

namespace huddle::sys {

class Cycle {
public:
    Cycle(const AppConfig& c, const DeployEnv& env);

    int run();
    Result<Verdict> dry_run();
    int rollback_by_hand(const std::string& to);

private:
    // Journal fields of one step.
    struct Step {
        ScopedLogFields f;
        Step(const char* step, const std::string& commit) : f({{"HUDDLE_STEP", step}, {"HUDDLE_COMMIT", commit}}) {}
    };
    // What a poll found out before deciding.
    struct Look {
        std::string live, live_target;  // the live release's commit and directory
        GitAuth auth;
        std::unique_ptr<Repository> repo;
        Verdict verdict;
        std::string tag_object;  // following a tag: the id the remote advertises for it
    };

    // cycle.cpp
    Status protect_dirs();
    Result<Look> look(bool create_repo);
    Status check_secrets(const GitAuth& auth) const;
    int fetch_and_build(Look& l, std::string& release);
    int take_slot_and_systemd(const std::string& target, std::unique_ptr<DeploySlot>& slot, std::unique_ptr<UnitManager>& sd);
    int deployed(const std::string& target, const std::string& live);
    int fail_rejected(const std::string& commit, const std::string& why, const char* step = "reject");

    // trust.cpp
    Status check_trust(Look& l, const std::string& commit);
    Result<Signer> check_signature(const SignedPayload& sp, const std::string& what, const std::string& commit);
    bool verifies_tag() const { return c_.repo.verify == VerifyMode::tag || c_.repo.verify == VerifyMode::both; }

    // phases.cpp
    void load_state();
    Status save_state();
    std::vector<std::string> base_env(const std::string& commit, const std::string& release) const;
    Status run_scripts(const char* step, const std::vector<std::string>& lines, const std::string& cwd, const std::string& commit,
                       const std::string& release);
    Status prepare_release(Repository& repo, const std::string& commit, const std::string& release);
    Status publish(const std::string& commit, const std::string& release);
    Result<UnitStatus> app_status(UnitManager& sd);
    Status restart_and_check(UnitManager& sd, const std::string& commit, const std::string& release, bool start_if_stopped);
    Status settle(UnitManager& sd, const UnitStatus& started);
    Status final_checks(const std::string& commit, const std::string& release);
    void prune();

    // rollback.cpp
    int roll_back(UnitManager& sd, const std::string& target, const std::string& live, const std::string& live_target, const Error& why);

    const AppConfig& c_;
    const DeployEnv& env_;
    std::string dir_, releases_, unit_;
    ScopedLogFields fields_;
    AppState state_;
    std::string ref_;
    Signer signer_;  // of the commit (or tag) being deployed, when checked
    std::unique_ptr<StepScopes> scopes_;  // made at the first step (env_.step_scopes)
};

std::string app_user(const AppConfig& c);
std::string app_group(const AppConfig& c);

}  // namespace huddle::sys
