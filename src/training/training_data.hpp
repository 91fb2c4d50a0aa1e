// What training reads from each row: the columns, their kinds, the label, the holdout split.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/feature_value.hpp"
#include "model/model.hpp"

#include <nlohmann/json.hpp>

namespace pgfraud {

// How a source column feeds the model, inferred from its SQL type.
// kNumericLog1p: a numeric column read as sign(x) * log1p(|x|) (the "log1p" training option).
enum class ColumnKind { kNumeric, kCategorical, kBoolean, kTimestamp, kDate, kNumericLog1p };

// One source column used for training.
struct TrainingColumn {
  std::string name;
  ColumnKind kind;
};

// The model whose features the glue reads from each row: one per column (hour_of_day and
// day_of_week for a timestamp, day_of_week for a date), and the label last, as a boolean.
// `missing_values`: texts every column (the label too) reads as missing.
Model ReadingModel(const std::vector<TrainingColumn>& columns, const std::string& label,
                   const std::vector<std::string>& missing_values = {});

// The label of a row: true (fraud), false, or nullopt for NULL; throws Error on other values.
std::optional<bool> ReadLabel(const Feature& label, const FeatureValue& value);

// A deterministic 64-bit hash of a row's values: the same row lands on the same side of the
// holdout split in every pass, in every worker, and on every run with the same seed.
uint64_t RowHash(const FeatureValue* values, size_t count, uint64_t seed) noexcept;
// The same hash of a row of numbers, booleans and missing values (no text) given as their
// kinds (FeatureValue::Kind) and numbers (a boolean as 0/1).
uint64_t RowHash(const uint8_t* kinds, const double* numbers, size_t count, uint64_t seed) noexcept;

inline uint64_t HoldoutSalt(bool label) noexcept { return label ? 0x9e3779b97f4a7c15ULL : 0ULL; }

// The holdout hash of a training row: its feature values (all but the last, the label) and
// its parsed label, so that 1, true and 'Y' put a row on the same side.
inline uint64_t HoldoutHash(const FeatureValue* values, size_t count, bool label, uint64_t seed) noexcept {
  return RowHash(values, count - 1, seed ^ HoldoutSalt(label));
}
inline uint64_t HoldoutHash(const uint8_t* kinds, const double* numbers, size_t count, bool label,
                            uint64_t seed) noexcept {
  return RowHash(kinds, numbers, count - 1, seed ^ HoldoutSalt(label));
}

// True when a row with this hash belongs to the holdout fraction.
inline bool InHoldout(uint64_t hash, double fraction) noexcept {
  return static_cast<double>(hash >> 11) * 0x1.0p-53 < fraction;
}

[[noreturn]] void ThrowNoPosition();

// An exact holdout, stratified by label, drawn row by row where rows have positions (a
// table's tuple ids): each labelled row gets a key, a bijective mix of its position and the
// seed (so keys never tie, and rows with equal values are drawn apart); of each class, the
// round(fraction x rows) rows with the lowest keys are held out.
struct RowSplit {
  static constexpr uint64_t kNoPosition = UINT64_MAX;  // a row read without its position
  uint64_t cut[2] = {0, 0};                            // per class ([0] legitimate): keys below it are held out
  size_t held[2] = {0, 0};                             // rows held out per class
  size_t rows[2] = {0, 0};                             // labelled rows per class
  // A split the pass reads with each row instead of drawing it: the position is the row's
  // side (1: held out, 0: trains). A time holdout's rows come so, marked by their query.
  bool marked = false;

  static uint64_t Key(uint64_t position, uint64_t seed) noexcept;
  // The split of rows whose keys are `keys[0]` (legitimate) and `keys[1]` (fraudulent).
  static RowSplit Choose(std::vector<uint64_t> keys[2], double fraction);
  static RowSplit Marked() noexcept {
    RowSplit s;
    s.marked = true;
    return s;
  }
  // 1 when a row of this key and label is held out, else 0.
  int Side(uint64_t key, bool label) const noexcept { return key < cut[label ? 1 : 0] ? 1 : 0; }
  nlohmann::json ToJson() const;
  static RowSplit FromJson(const nlohmann::json& j);
};

// Whether a labelled row is held out: by `split` at its position when there is a split (a
// row without its position then is an internal error), else by its hash (hash()).
template <typename Hash>
bool HeldOut(const RowSplit* split, uint64_t position, bool label, uint64_t seed, double fraction, Hash&& hash) {
  if (split != nullptr) {
    if (position == RowSplit::kNoPosition) ThrowNoPosition();
    if (split->marked) return position == 1;
    return split->Side(RowSplit::Key(position, seed), label) == 1;
  }
  return fraction > 0 && InHoldout(hash(), fraction);
}

}  // namespace pgfraud
