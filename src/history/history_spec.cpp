// Parsing, validating and naming history declarations.
#include "history/history_spec.hpp"

#include <set>

#include "common/errors.hpp"

namespace pgfraud {
namespace {

using nlohmann::json;

[[noreturn]] void Bad(bool document, const std::string& message, const std::string& detail = std::string()) {
  throw Error(document ? ErrorCode::kInvalidModelDocument : ErrorCode::kInvalidParameterValue, message, detail);
}

// A list of column names: a string alone or an array of strings.
std::vector<std::string> Names(const json& j, const char* key, bool document) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (it->is_string()) return {it->get<std::string>()};
  if (!it->is_array()) Bad(document, std::string("history \"") + key + "\" must be a column name or an array of them");
  for (const json& v : *it) {
    if (!v.is_string() || v.get<std::string>().empty()) {
      Bad(document, std::string("history \"") + key + "\" must hold column names");
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

void CheckKeys(const json& j, const std::set<std::string>& known, bool document) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!known.count(it.key())) {
      Bad(document, "history has an unknown key \"" + it.key() + "\"",
          "Keys are by, time, windows, amounts, distinct, new" + std::string(document ? ", relation." : "."));
    }
  }
}

std::string StatName(HistoryStat stat) {
  switch (stat) {
    case HistoryStat::kCount: return "count";
    case HistoryStat::kSum: return "sum";
    case HistoryStat::kMean: return "mean";
    case HistoryStat::kRatio: return "ratio";
    case HistoryStat::kDistinct: return "distinct";
    case HistoryStat::kSecondsSinceLast: return "seconds_since_last";
    case HistoryStat::kAgeSeconds: return "age_seconds";
    case HistoryStat::kNew: return "new";
  }
  return "?";
}

}  // namespace

HistorySpec HistorySpec::FromOption(const json& option,
                                    const std::function<int64_t(const std::string&)>& window_length) {
  if (!option.is_object()) Bad(false, "the \"history\" option must be an object");
  CheckKeys(option, {"by", "time", "windows", "amounts", "distinct", "new"}, false);
  HistorySpec s;
  s.by = Names(option, "by", false);
  auto time = option.find("time");
  if (time == option.end() || !time->is_string() || time->get<std::string>().empty()) {
    Bad(false, "history needs a \"time\" column name");
  }
  s.time = time->get<std::string>();
  auto windows = option.find("windows");
  if (windows != option.end() && !windows->is_array()) Bad(false, "history \"windows\" must be an array of intervals");
  if (windows != option.end()) {
    for (const json& w : *windows) {
      if (!w.is_string()) Bad(false, "each history window must be interval text such as \"1 hour\"");
      s.windows.push_back({w.get<std::string>(), window_length(w.get<std::string>())});
    }
  }
  s.amounts = Names(option, "amounts", false);
  s.distinct = Names(option, "distinct", false);
  s.fresh = Names(option, "new", false);
  s.Validate(false);
  return s;
}

HistorySpec HistorySpec::FromDocument(const json& doc) {
  if (!doc.is_object()) Bad(true, "\"history\" must be an object");
  CheckKeys(doc, {"by", "time", "windows", "amounts", "distinct", "new", "relation"}, true);
  HistorySpec s;
  s.by = Names(doc, "by", true);
  if (!doc.contains("time") || !doc["time"].is_string()) Bad(true, "history has no \"time\" string");
  s.time = doc["time"].get<std::string>();
  if (doc.contains("windows")) {
    if (!doc["windows"].is_array()) Bad(true, "history \"windows\" must be an array");
    for (const json& w : doc["windows"]) {
      if (!w.is_object() || !w.contains("label") || !w["label"].is_string() || !w.contains("seconds") ||
          !w["seconds"].is_number()) {
        Bad(true, "each history window needs a \"label\" and a number of \"seconds\"");
      }
      const double seconds = w["seconds"].get<double>();
      if (!(seconds > 0 && seconds < 1e11)) Bad(true, "a history window's length must be positive");
      s.windows.push_back({w["label"].get<std::string>(), static_cast<int64_t>(seconds * 1e6 + 0.5)});
    }
  }
  s.amounts = Names(doc, "amounts", true);
  s.distinct = Names(doc, "distinct", true);
  s.fresh = Names(doc, "new", true);
  if (doc.contains("relation")) {
    if (!doc["relation"].is_string()) Bad(true, "history \"relation\" must be a string");
    s.relation = doc["relation"].get<std::string>();
  }
  s.Validate(true);
  return s;
}

void HistorySpec::Validate(bool document) const {
  if (by.empty()) Bad(document, "history needs at least one \"by\" column (the entity)");
  if (by.size() > kMaxHistoryEntities) {
    Bad(document, "history declares too many entities",
        "At most " + std::to_string(kMaxHistoryEntities) + " \"by\" columns.");
  }
  if (windows.size() > kMaxHistoryWindows) {
    Bad(document, "history declares too many windows", "At most " + std::to_string(kMaxHistoryWindows) + " windows.");
  }
  for (const auto* list : {&amounts, &distinct, &fresh}) {
    if (list->size() > kMaxHistoryColumns) {
      Bad(document, "history lists too many columns",
          "At most " + std::to_string(kMaxHistoryColumns) + " columns each in amounts, distinct and new.");
    }
  }
  if ((!amounts.empty() || !distinct.empty()) && windows.empty()) {
    Bad(document, "history \"amounts\" and \"distinct\" need at least one window");
  }
  std::set<std::string> labels;
  for (const HistoryWindow& w : windows) {
    if (w.microseconds <= 0) Bad(document, "a history window's length must be positive");
    if (!labels.insert(w.label).second) Bad(document, "history window \"" + w.label + "\" appears twice");
  }
  std::set<std::string> entities;
  for (const std::string& b : by) {
    if (b == time) Bad(document, "the history time column cannot be an entity");
    if (!entities.insert(b).second) Bad(document, "history entity \"" + b + "\" appears twice");
  }
  for (const auto* list : {&amounts, &distinct, &fresh}) {
    std::set<std::string> seen;
    for (const std::string& c : *list) {
      if (!seen.insert(c).second) Bad(document, "history column \"" + c + "\" appears twice in one list");
    }
  }
}

json HistorySpec::ToJson() const {
  json w = json::array();
  for (const HistoryWindow& x : windows) w.push_back({{"label", x.label}, {"seconds", x.microseconds / 1e6}});
  json j = {{"by", by}, {"time", time}, {"windows", w}, {"amounts", amounts}, {"distinct", distinct}, {"new", fresh}};
  if (!relation.empty()) j["relation"] = relation;
  return j;
}

int64_t HistorySpec::LongestWindow() const {
  int64_t longest = 0;
  for (const HistoryWindow& w : windows) longest = std::max(longest, w.microseconds);
  return longest;
}

size_t HistorySpec::FeaturesPerEntity() const {
  return windows.size() * (1 + 3 * amounts.size() + distinct.size()) + 2 + fresh.size();
}

// Names read "<entity>:<stat>[(<column>)][:<window>]", e.g. "account_id:mean(amount):1 day".
std::vector<HistoryFeatureInfo> HistorySpec::Features() const {
  std::vector<HistoryFeatureInfo> out;
  for (size_t e = 0; e < by.size(); ++e) {
    auto add = [&](HistoryStat stat, int column, int window) {
      std::string name = by[e] + ":" + StatName(stat);
      if (column >= 0) {
        const std::vector<std::string>& list = stat == HistoryStat::kDistinct ? distinct
                                               : stat == HistoryStat::kNew    ? fresh
                                                                              : amounts;
        name += "(" + list[column] + ")";
      }
      if (window >= 0) name += ":" + windows[window].label;
      out.push_back({name, e, stat, column, window});
    };
    for (size_t w = 0; w < windows.size(); ++w) {
      add(HistoryStat::kCount, -1, static_cast<int>(w));
      for (size_t a = 0; a < amounts.size(); ++a) {
        add(HistoryStat::kSum, static_cast<int>(a), static_cast<int>(w));
        add(HistoryStat::kMean, static_cast<int>(a), static_cast<int>(w));
        add(HistoryStat::kRatio, static_cast<int>(a), static_cast<int>(w));
      }
      for (size_t d = 0; d < distinct.size(); ++d)
        add(HistoryStat::kDistinct, static_cast<int>(d), static_cast<int>(w));
    }
    add(HistoryStat::kSecondsSinceLast, -1, -1);
    add(HistoryStat::kAgeSeconds, -1, -1);
    for (size_t n = 0; n < fresh.size(); ++n) add(HistoryStat::kNew, static_cast<int>(n), -1);
  }
  return out;
}

}  // namespace pgfraud
