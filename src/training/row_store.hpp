// Every labelled row of the statistics pass, kept in memory when the source fits a budget:
// training then iterates and evaluates on these rows instead of passing over the table again.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/byte_packing.hpp"
#include "common/feature_value.hpp"
#include "model/model.hpp"
#include "common/prefault_allocator.hpp"

namespace pgfraud {

// Row-major (one write stream while rows arrive): per row, one double per feature of the
// reading model (the label excluded), holding the value as the encoding reads it: the number, 0/1 for a boolean, the hour or
// weekday for a time feature, the index into the column's dictionary for a category; NaN
// when missing. Labels and holdout membership are one byte per row each.
class RowStore {
 public:
  using Values = std::vector<double, PrefaultAllocator<double>>;
  using Bytes = std::vector<uint8_t, PrefaultAllocator<uint8_t>>;

  RowStore() = default;
  // A store for `reading`'s features that may grow to `budget` bytes; past it, it drops its
  // rows and stays overflowed (training then falls back to passes over the table).
  RowStore(const Model& reading, size_t budget);

  bool Enabled() const noexcept { return budget_ > 0; }
  bool Overflowed() const noexcept { return overflowed_; }
  // Enabled and holding every row added to it, here or in a merged store.
  bool Complete() const noexcept { return Enabled() && !overflowed_; }
  size_t Rows() const noexcept { return labels_.size(); }
  // Bytes a row of `features` values takes (dictionaries aside): for the estimate up front.
  static size_t RowBytes(size_t features) noexcept { return features * sizeof(double) + 2; }

  // Adds a labelled row (values aligned with the reading model, label last, as in passes).
  // Reads each value as the encoding does; throws Error naming a feature on a bad value.
  void Add(const Model& reading, const FeatureValue* values, bool label, bool holdout);
  // For a reader that has the values already: room for one row's Width() values (NaN for
  // missing, a category as CategoryId), or nullptr when the store is off or overflowed; then
  // EndRow() once they are written.
  double* BeginRow(bool label, bool holdout);
  void EndRow();
  // The dictionary index of a category of a categorical feature, added when new.
  double CategoryId(size_t feature, std::string_view category);
  // Reserves room for about `rows` rows (within the budget), so the columns never copy.
  void Reserve(size_t rows);
  // The room reserved for values, rows written or not.
  void* ValueRoom() noexcept { return values_.data(); }
  size_t ValueRoomBytes() const noexcept { return values_.size() * sizeof(double); }
  void Merge(RowStore&& other);

  void Serialize(std::vector<uint8_t>& out) const;
  static RowStore Deserialize(Unpacker& in);

  size_t Width() const noexcept { return width_; }
  // The `Width()` values of a row.
  const double* Row(size_t row) const noexcept { return values_.data() + row * width_; }
  const std::vector<std::string>& Dictionary(size_t feature) const { return dictionaries_[feature]; }
  const Bytes& Labels() const noexcept { return labels_; }
  const Bytes& Holdout() const noexcept { return holdout_; }

 private:
  void Overflow();
  void IndexDictionaries();

  size_t budget_ = 0;
  size_t bytes_ = 0;
  bool overflowed_ = false;
  size_t width_ = 0;
  Values values_;                                                 // rows x width_ in use, the rest room for more
  size_t used_ = 0;                                               // values in use
  std::vector<std::vector<std::string>> dictionaries_;            // per categorical feature, by first sight
  std::vector<std::unordered_map<std::string, uint32_t>> index_;  // text -> dictionary index
  Bytes labels_;
  Bytes holdout_;
  std::string buffer_;
};

}  // namespace pgfraud
