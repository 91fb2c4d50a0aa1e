// Reading model for training rows, label parsing and the holdout hash.
#include "training/training_data.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/errors.hpp"

namespace pgfraud {
namespace {

// One multiply-xorshift round per 64-bit word: fast, and Avalanche() finishes the mixing.
inline uint64_t Mix(uint64_t h, uint64_t x) noexcept {
  h = (h ^ x) * 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 29);
}

uint64_t Avalanche(uint64_t x) noexcept {
  // splitmix64's finaliser: every input bit moves every output bit.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

Feature ReadingFeature(const std::string& name, FeatureKind kind) {
  Feature f;
  f.name = name;
  f.kind = kind;
  f.Prepare();
  return f;
}

}  // namespace

Model ReadingModel(const std::vector<TrainingColumn>& columns, const std::string& label,
                   const std::vector<std::string>& missing_values) {
  Model m;
  for (const TrainingColumn& c : columns) {
    switch (c.kind) {
      case ColumnKind::kNumeric: m.features.push_back(ReadingFeature(c.name, FeatureKind::kNumeric)); break;
      case ColumnKind::kNumericLog1p:
        m.features.push_back(ReadingFeature(c.name, FeatureKind::kNumeric));
        m.features.back().log1p = true;
        break;
      case ColumnKind::kCategorical: m.features.push_back(ReadingFeature(c.name, FeatureKind::kCategorical)); break;
      case ColumnKind::kBoolean: m.features.push_back(ReadingFeature(c.name, FeatureKind::kBoolean)); break;
      case ColumnKind::kTimestamp:
        m.features.push_back(ReadingFeature(c.name, FeatureKind::kHourOfDay));
        m.features.push_back(ReadingFeature(c.name, FeatureKind::kDayOfWeek));
        break;
      case ColumnKind::kDate: m.features.push_back(ReadingFeature(c.name, FeatureKind::kDayOfWeek)); break;
    }
  }
  m.features.push_back(ReadingFeature(label, FeatureKind::kBoolean));
  if (!missing_values.empty()) m.SetMissingValues(missing_values);
  return m;
}

std::optional<bool> ReadLabel(const Feature& label, const FeatureValue& value) {
  bool out;
  try {
    if (!ReadBool(label, value, &out)) return std::nullopt;
  } catch (const Error&) {
    throw Error(ErrorCode::kInvalidParameterValue,
                "label column \"" + label.name + "\" has a value that is not a label",
                "Labels are boolean, 0/1, or text true/false, yes/no, y/n, t/f, 1/0; NULL labels are skipped.");
  }
  return out;
}

namespace {

// A value's share of a row hash: its word mixed with its position, so that equal values in
// different columns do not cancel.
inline uint64_t AtPosition(uint64_t word, size_t position) noexcept {
  return Mix(word, 0x632be59bd9b4e019ULL * (position + 1));
}

// The word of a number, a boolean (`flag`: its value) or a missing value.
inline uint64_t PlainWord(FeatureValue::Kind kind, double number, bool flag) noexcept {
  uint64_t word = static_cast<uint64_t>(kind) << 56;
  if (kind == FeatureValue::Kind::kNumber) {
    const double x = number == 0.0 ? 0.0 : number;  // -0 and 0 are one value
    uint64_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    word ^= bits;
  } else if (kind == FeatureValue::Kind::kBool) {
    word ^= flag ? 1 : 0;
  }
  return word;
}

}  // namespace

uint64_t RowHash(const FeatureValue* values, size_t count, uint64_t seed) noexcept {
  // Each value is hashed on its own and the results summed: the multiplications of different
  // values do not wait for each other (a chained hash was 12% of a training pass).
  uint64_t sum = Mix(0xcbf29ce484222325ULL, seed);
  for (size_t i = 0; i < count; ++i) {
    const FeatureValue& v = values[i];
    if (v.kind != FeatureValue::Kind::kText && v.kind != FeatureValue::Kind::kOther) {
      sum += AtPosition(PlainWord(v.kind, v.number, v.flag), i);
      continue;
    }
    uint64_t h = v.text.size();
    size_t j = 0;
    for (; j + 8 <= v.text.size(); j += 8) {
      uint64_t chunk;
      std::memcpy(&chunk, v.text.data() + j, sizeof chunk);
      h = Mix(h, chunk);
    }
    uint64_t tail = 0;
    std::memcpy(&tail, v.text.data() + j, v.text.size() - j);
    sum += AtPosition((static_cast<uint64_t>(v.kind) << 56) ^ Mix(h, tail), i);
  }
  return Avalanche(sum);
}

uint64_t RowHash(const uint8_t* kinds, const double* numbers, size_t count, uint64_t seed) noexcept {
  uint64_t sum = Mix(0xcbf29ce484222325ULL, seed);
  for (size_t i = 0; i < count; ++i) {
    sum += AtPosition(PlainWord(static_cast<FeatureValue::Kind>(kinds[i]), numbers[i], numbers[i] != 0.0), i);
  }
  return Avalanche(sum);
}

uint64_t RowSplit::Key(uint64_t position, uint64_t seed) noexcept {
  // splitmix64's finaliser, a bijection of 64-bit words, of the position under the seed.
  uint64_t z = position ^ (seed * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void ThrowNoPosition() { throw Error(ErrorCode::kInternal, "a row of a split holdout came without its position"); }

nlohmann::json RowSplit::ToJson() const {
  return {{"cut", {cut[0], cut[1]}}, {"held", {held[0], held[1]}}, {"rows", {rows[0], rows[1]}}, {"marked", marked}};
}

RowSplit RowSplit::FromJson(const nlohmann::json& j) {
  RowSplit s;
  for (int c = 0; c < 2; ++c) {
    s.cut[c] = j.at("cut")[c].get<uint64_t>();
    s.held[c] = j.at("held")[c].get<size_t>();
    s.rows[c] = j.at("rows")[c].get<size_t>();
  }
  s.marked = j.value("marked", false);
  return s;
}

RowSplit RowSplit::Choose(std::vector<uint64_t> keys[2], double fraction) {
  RowSplit split;
  for (int c = 0; c < 2; ++c) {
    std::vector<uint64_t>& k = keys[c];
    split.rows[c] = k.size();
    const auto held = static_cast<size_t>(std::llround(fraction * static_cast<double>(k.size())));
    split.held[c] = std::min(held, k.size());
    if (split.held[c] == 0) {
      split.cut[c] = 0;
    } else if (split.held[c] >= k.size()) {
      split.cut[c] = UINT64_MAX;  // every row (a key of UINT64_MAX itself aside: a 2^-64 chance)
    } else {
      std::nth_element(k.begin(), k.begin() + static_cast<long>(split.held[c]), k.end());
      split.cut[c] = k[split.held[c]];  // the lowest key not held out
    }
  }
  return split;
}

}  // namespace pgfraud
