// The window arithmetic of history features: one function computes a row's features from
// its entity's earlier rows, whether training sweeps a sorted partition (HistorySweep) or
// the trigger looked the rows up (the glue fills an EntityPast from the table).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "history/history_spec.hpp"

namespace pgfraud {

// One entity's rows earlier than the current row, as far back as the longest window,
// oldest first; amounts and distinct values are row-major (NaN / nullopt for NULL).
struct EntityPast {
  std::vector<int64_t> times;  // microseconds since the epoch
  std::vector<double> amounts;
  std::vector<std::optional<std::string>> distinct;
  size_t begin = 0;          // rows before `begin` have left every window (HistorySweep)
  bool has_earlier = false;  // any earlier row at all, even outside every window
  int64_t first_time = 0;    // of the earliest and the latest earlier row
  int64_t last_time = 0;
  // Per "new" column: 1 when the current value was seen in an earlier row, 0 when not,
  // -1 when the current value is NULL.
  std::vector<int8_t> seen;
};

// The current row's time and amounts (NaN for NULL).
struct CurrentRow {
  int64_t time = 0;
  std::vector<double> amounts;
};

// The FeaturesPerEntity() values of one entity, in HistorySpec::Features() order; NaN is a
// missing value (no history for a mean or ratio, no earlier row for seconds_since_last).
void ComputeEntityFeatures(const HistorySpec& spec, const EntityPast& past, const CurrentRow& row, double* out);

// Training's sweep over one entity's rows in time order: rows are added once their time is
// earlier than the current row's (ties never see each other), and leave the window state
// when they fall out of the longest window. "new" columns remember every value seen.
class HistorySweep {
 public:
  explicit HistorySweep(const HistorySpec& spec) : spec_(spec), seen_(spec.fresh.size()) {}

  void Reset();
  // An earlier row: its time, amounts, distinct values and new-column values (nullopt: NULL).
  void Add(int64_t time, const std::vector<double>& amounts, const std::vector<std::optional<std::string>>& distinct,
           const std::vector<std::optional<std::string>>& fresh);
  // The features of a row at `row.time` with these new-column values; every row added so far
  // must be earlier than it.
  void Compute(const CurrentRow& row, const std::vector<std::optional<std::string>>& fresh, double* out);

 private:
  const HistorySpec& spec_;
  EntityPast past_;
  std::vector<std::unordered_set<std::string>> seen_;
};

}  // namespace pgfraud
