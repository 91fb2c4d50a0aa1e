// Column-major storage of the training rows, mergeable across parallel workers.
#include "training/row_store.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "common/byte_packing.hpp"

namespace pgfraud {

RowStore::RowStore(const Model& reading, size_t budget)
    : budget_(budget),
      width_(reading.features.size() - 1),
      dictionaries_(reading.features.size() - 1),
      index_(reading.features.size() - 1) {}

void RowStore::Reserve(size_t rows) {
  if (!Complete()) return;
  rows = std::min(rows, budget_ / RowBytes(width_));
  // Sized up front (pages populated at once) and filled through used_: growing by doubling
  // would copy, and a push_back per value costs more than reading it.
  if (rows * width_ > values_.size()) values_.resize(rows * width_);
  labels_.reserve(rows);
  holdout_.reserve(rows);
}

double RowStore::CategoryId(size_t feature, std::string_view category) {
  auto& index = index_[feature];
  auto it = index.find(std::string(category));
  if (it != index.end()) return it->second;
  const auto id = static_cast<uint32_t>(dictionaries_[feature].size());
  dictionaries_[feature].emplace_back(category);
  index.emplace(std::string(category), id);
  bytes_ += 2 * category.size() + 64;  // the text twice (dictionary, index) and their nodes
  return id;
}

double* RowStore::BeginRow(bool label, bool holdout) {
  if (!Complete()) return nullptr;
  if (used_ + width_ > values_.size()) values_.resize(std::max<size_t>(2 * values_.size(), 1024 * width_));
  double* row = values_.data() + used_;
  used_ += width_;
  labels_.push_back(label ? 1 : 0);
  holdout_.push_back(holdout ? 1 : 0);
  return row;
}

void RowStore::EndRow() {
  bytes_ += RowBytes(width_);
  if (bytes_ > budget_) Overflow();
}

void RowStore::Add(const Model& reading, const FeatureValue* values, bool label, bool holdout) {
  double* out = BeginRow(label, holdout);
  if (out == nullptr) return;
  for (size_t i = 0; i < width_; ++i) {
    const Feature& f = reading.features[i];
    double stored = std::numeric_limits<double>::quiet_NaN();
    switch (f.kind) {
      case FeatureKind::kNumeric: {
        double x;
        if (ReadNumber(f, values[i], &x)) stored = x;
        break;
      }
      case FeatureKind::kBoolean: {
        bool b;
        if (ReadBool(f, values[i], &b)) stored = b ? 1.0 : 0.0;
        break;
      }
      case FeatureKind::kCategorical: {
        std::string_view category;
        if (ReadCategory(f, values[i], &buffer_, &category)) stored = CategoryId(i, category);
        break;
      }
      default: {
        const int slot = ReadSlot(f, values[i]);
        if (slot >= 0) stored = slot;
      }
    }
    out[i] = stored;
  }
  EndRow();
}

void RowStore::Overflow() {
  overflowed_ = true;
  bytes_ = 0;
  Values().swap(values_);
  used_ = 0;
  for (auto& dictionary : dictionaries_) std::vector<std::string>().swap(dictionary);
  for (auto& index : index_) std::unordered_map<std::string, uint32_t>().swap(index);
  Bytes().swap(labels_);
  Bytes().swap(holdout_);
}

void RowStore::Merge(RowStore&& o) {
  if (!o.Enabled()) return;
  if (!Enabled()) {
    *this = std::move(o);
    return;
  }
  if (overflowed_) return;
  if (o.overflowed_ || bytes_ + o.bytes_ > budget_) {
    Overflow();
    return;
  }
  if (o.width_ != width_) throw std::runtime_error("stored rows of different widths");
  // The other store numbered its categories in its own order: renumber into this one's.
  std::vector<std::vector<double>> renumber(width_);
  for (size_t i = 0; i < width_; ++i) {
    for (const std::string& category : o.dictionaries_[i]) renumber[i].push_back(CategoryId(i, category));
  }
  const size_t first = used_;
  values_.resize(used_);
  values_.insert(values_.end(), o.values_.begin(), o.values_.begin() + static_cast<long>(o.used_));
  used_ = values_.size();
  for (size_t i = 0; i < width_; ++i) {
    if (renumber[i].empty()) continue;
    for (size_t at = first + i; at < used_; at += width_) {
      if (!std::isnan(values_[at])) values_[at] = renumber[i][static_cast<size_t>(values_[at])];
    }
  }
  labels_.insert(labels_.end(), o.labels_.begin(), o.labels_.end());
  holdout_.insert(holdout_.end(), o.holdout_.begin(), o.holdout_.end());
  bytes_ += o.Rows() * RowBytes(width_);
  o = RowStore();
  if (bytes_ > budget_) Overflow();
}

// Layout: budget, overflowed, rows, width, the values; per feature its dictionary (count,
// then length and bytes of each text); labels; holdout flags.
void RowStore::Serialize(std::vector<uint8_t>& out) const {
  Put(out, static_cast<uint64_t>(budget_));
  Put(out, static_cast<uint8_t>(overflowed_));
  Put(out, static_cast<uint64_t>(Rows()));
  Put(out, static_cast<uint32_t>(width_));
  out.reserve(out.size() + bytes_ + 64);
  PutArray(out, values_.data(), used_);
  for (const std::vector<std::string>& dictionary : dictionaries_) {
    Put(out, static_cast<uint32_t>(dictionary.size()));
    for (const std::string& text : dictionary) {
      Put(out, static_cast<uint32_t>(text.size()));
      PutArray(out, text.data(), text.size());
    }
  }
  PutArray(out, labels_.data(), labels_.size());
  PutArray(out, holdout_.data(), holdout_.size());
}

RowStore RowStore::Deserialize(Unpacker& in) {
  RowStore s;
  s.budget_ = in.Get<uint64_t>();
  s.overflowed_ = in.Get<uint8_t>() != 0;
  const uint64_t rows = in.Get<uint64_t>();
  s.width_ = in.Get<uint32_t>();
  if (s.width_ > in.Left() || (s.width_ > 0 && rows > in.Left() / s.width_)) {
    throw std::runtime_error("corrupt training statistics");
  }
  in.Array(s.values_, rows * s.width_);
  s.used_ = s.values_.size();
  s.dictionaries_.resize(s.width_);
  s.index_.resize(s.width_);
  for (size_t i = 0; i < s.width_; ++i) {
    const uint32_t count = in.Get<uint32_t>();
    if (count > in.Left()) throw std::runtime_error("corrupt training statistics");
    for (uint32_t k = 0; k < count; ++k) {
      const uint32_t length = in.Get<uint32_t>();
      if (length > in.Left()) throw std::runtime_error("corrupt training statistics");
      std::string text(length, '\0');
      in.Bytes(text.data(), length);
      s.CategoryId(i, text);
    }
    for (size_t at = i; count > 0 && at < s.used_; at += s.width_) {
      const double id = s.values_[at];
      if (!std::isnan(id) && !(id >= 0 && id < count)) throw std::runtime_error("corrupt training statistics");
    }
  }
  in.Array(s.labels_, rows);
  in.Array(s.holdout_, rows);
  s.bytes_ += rows * RowBytes(s.width_);
  return s;
}

}  // namespace pgfraud
