#include "state.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace huddle {
namespace {

nlohmann::json signer_json(const Signer& s) { return {{"principal", s.principal}, {"fingerprint", s.fingerprint}}; }

Signer signer_of(const nlohmann::json& j) {
    auto it = j.find("signer");
    if (it == j.end() || !it->is_object()) return {};
    return {it->value("principal", ""), it->value("fingerprint", "")};
}

}  // namespace

std::string state_to_json(const AppState& s) {
    nlohmann::json j;
    j["deployed"] = s.deployed;
    j["previous"] = s.previous;
    j["ref"] = s.ref;
    if (!s.signer.principal.empty() || !s.signer.fingerprint.empty()) j["signer"] = signer_json(s.signer);
    j["bad"] = nlohmann::json::array();
    for (const auto& b : s.bad) j["bad"].push_back({{"commit", b}});
    if (!s.verbatim.empty()) j["verbatim"] = s.verbatim;
    j["history"] = nlohmann::json::array();
    for (const auto& h : s.history) {
        nlohmann::json e = {{"time", h.time}, {"commit", h.commit}, {"ref", h.ref}, {"result", h.result}, {"detail", h.detail}};
        if (!h.signer.principal.empty() || !h.signer.fingerprint.empty()) e["signer"] = signer_json(h.signer);
        j["history"].push_back(e);
    }
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::optional<AppState> state_from_json(const std::string& text, std::string& error) {
    try {
        auto j = nlohmann::json::parse(text);
        AppState s;
        s.deployed = j.value("deployed", "");
        s.previous = j.value("previous", "");
        s.ref = j.value("ref", "");
        s.signer = signer_of(j);
        for (const auto& b : j.value("bad", nlohmann::json::array())) s.bad.push_back(b.value("commit", ""));
        for (const auto& v : j.value("verbatim", nlohmann::json::array()))
            if (v.is_string()) s.verbatim.push_back(v.get<std::string>());
        for (const auto& h : j.value("history", nlohmann::json::array()))
            s.history.push_back({h.value("time", int64_t{0}), h.value("commit", ""), h.value("ref", ""), h.value("result", ""), h.value("detail", ""),
                                 signer_of(h)});
        return s;
    } catch (const nlohmann::json::exception& e) {
        error = e.what();
        return std::nullopt;
    }
}

bool is_bad(const AppState& s, const std::string& commit) {
    return std::find(s.bad.begin(), s.bad.end(), commit) != s.bad.end();
}

Signer signer_of_release(const AppState& s, const std::string& commit) {
    for (auto it = s.history.rbegin(); it != s.history.rend(); ++it)
        if (it->commit == commit && it->result == "deployed") return it->signer;
    return {};
}

void add_history(AppState& s, HistoryEntry e, size_t max) {
    s.history.push_back(std::move(e));
    if (s.history.size() > max) s.history.erase(s.history.begin(), s.history.begin() + static_cast<long>(s.history.size() - max));
}

}  // namespace huddle
