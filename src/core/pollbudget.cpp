#include "pollbudget.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace huddle {

usec_t mean_poll_period(const TimingConfig& t) { return t.maximum ? t.minimum + (*t.maximum - t.minimum) / 2 : t.minimum; }

namespace {

double rate_under(const std::vector<TimingConfig>& timings, usec_t floor) {
    double r = 0;
    for (const auto& t : timings) r += 1e6 / static_cast<double>(std::max(mean_poll_period(t), floor));
    return r;
}

}  // namespace

PollBudget fit_poll_budget(const std::vector<TimingConfig>& timings, double budget) {
    PollBudget b;
    b.budget = budget > 0 ? budget : 0;
    b.asked = b.planned = rate_under(timings, 0);
    if (b.budget == 0 || b.asked <= b.budget) return b;
    // 2^40 s is far beyond any timing a config can hold; the loop ends well
    // before it for any budget > 0 and a finite number of apps.
    for (int k = 0; k <= 40; ++k) {
        usec_t floor = (usec_t{1} << k) * kUsecPerSec;
        double r = rate_under(timings, floor);
        if (r <= b.budget || k == 40) {
            b.floor = floor;
            b.planned = r;
            break;
        }
    }
    for (const auto& t : timings)
        if (mean_poll_period(t) < b.floor) b.slowed++;
    return b;
}

TimingConfig slowed_timing(const TimingConfig& t, usec_t floor) {
    usec_t mean = mean_poll_period(t);
    if (floor == 0 || mean >= floor) return t;
    // long double: minimum * floor overflows 64 bits for long timings.
    long double scale = static_cast<long double>(floor) / static_cast<long double>(mean);
    auto whole_seconds = [&](usec_t v) {
        long double s = std::round(static_cast<long double>(v) * scale / kUsecPerSec);
        return std::max<usec_t>(1, static_cast<usec_t>(s)) * kUsecPerSec;
    };
    TimingConfig out;
    out.minimum = whole_seconds(t.minimum);
    if (t.maximum) out.maximum = std::max(out.minimum, whole_seconds(*t.maximum));
    return out;
}

std::string parse_poll_rate(const std::string& text, double& out) {
    char* end = nullptr;
    double d = std::strtod(text.c_str(), &end);
    // !(d >= 0) also catches NaN; 1e9 a second is no machine's budget.
    if (text.empty() || *end != '\0' || !(d >= 0) || d > 1e9 || std::isspace(static_cast<unsigned char>(text[0])))
        return "'" + text + "' is not a rate; give polls a second, e.g. 20 or 0.5 (0: no limit)";
    out = d;
    return "";
}

SettingValue setting_value(std::string_view text, std::string_view key) {
    SettingValue found;
    int line = 0;
    auto trim = [](std::string_view v) {
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) v.remove_suffix(1);
        return v;
    };
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view l = trim(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++line;
        if (l.empty() || l.front() == '#' || l.front() == ';') continue;
        if (l.substr(0, 7) == "export ") l = trim(l.substr(7));
        size_t eq = l.find('=');
        if (eq == std::string_view::npos || trim(l.substr(0, eq)) != key) continue;
        std::string_view v = trim(l.substr(eq + 1));
        if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
        found = {std::string(v), line};
    }
    return found;
}

std::string describe_poll_budget(const PollBudget& b, size_t apps) {
    return fmt::format("{} apps ask for {:.3g} polls a second, more than the poll budget of {:g}; "
                       "the {} that poll more often than every {} on average are slowed to that, {:.3g} polls a second in all",
                       apps, b.asked, b.budget, b.slowed, format_timespan(b.floor), b.planned);
}

}  // namespace huddle
