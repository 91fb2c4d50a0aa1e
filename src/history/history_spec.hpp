// The declaration of per-entity history features (the "history" training option and the
// model document's "history" object) and the list of features it derives.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pgfraud {

// Named limits of a declaration (each breach is a 22023 error naming the limit).
constexpr size_t kMaxHistoryEntities = 4;
constexpr size_t kMaxHistoryWindows = 6;
constexpr size_t kMaxHistoryColumns = 4;  // per list: amounts, distinct, new

// One window: its label as written ("1 hour") and its fixed length.
struct HistoryWindow {
  std::string label;
  int64_t microseconds = 0;
};

// What a derived feature measures.
enum class HistoryStat { kCount, kSum, kMean, kRatio, kDistinct, kSecondsSinceLast, kAgeSeconds, kNew };

// One derived feature: its name, the entity, the statistic, the column and window it reads.
struct HistoryFeatureInfo {
  std::string name;
  size_t entity = 0;
  HistoryStat stat = HistoryStat::kCount;
  int column = -1;  // index into amounts (sum, mean, ratio), distinct or fresh (new); -1: none
  int window = -1;  // index into windows; -1: none
};

// A validated declaration.
struct HistorySpec {
  std::vector<std::string> by;  // entity columns, each its own history
  std::string time;
  std::vector<HistoryWindow> windows;
  std::vector<std::string> amounts;
  std::vector<std::string> distinct;
  std::vector<std::string> fresh;  // the "new" columns
  std::string relation;            // where scoring looks the history up (qualified name)

  // From the training option; `window_length` turns a window's text into microseconds
  // (the glue: PostgreSQL's interval input) and throws on bad text.
  static HistorySpec FromOption(const nlohmann::json& option,
                                const std::function<int64_t(const std::string&)>& window_length);
  // From a model document (windows carry their lengths); throws kInvalidModelDocument.
  static HistorySpec FromDocument(const nlohmann::json& doc);
  nlohmann::json ToJson() const;

  int64_t LongestWindow() const;
  // Every derived feature, entity by entity (see FeatureNames in history_spec.cpp).
  std::vector<HistoryFeatureInfo> Features() const;
  size_t FeaturesPerEntity() const;

 private:
  void Validate(bool document) const;
};

}  // namespace pgfraud
