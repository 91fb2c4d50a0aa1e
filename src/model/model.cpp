// Scoring: each feature kind's contribution to the logit, as docs/model-document.md defines it.
#include "model/model.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "common/value_parsing.hpp"

namespace pgfraud {
namespace {

[[noreturn]] void ThrowWrongKind(const Feature& f, const FeatureValue& v) {
  throw Error(ErrorCode::kInvalidParameterValue,
              "feature \"" + f.name + "\" of kind " + FeatureKindName(f.kind) + " cannot take " +
                  (v.kind == FeatureValue::Kind::kOther ? std::string(v.text) : std::string("a boolean")),
              "Numbers, strings, booleans and null are accepted where the feature kind allows.");
}

[[noreturn]] __attribute__((noinline, cold)) void ThrowNotFinite(const Feature& f) {
  throw Error(ErrorCode::kNumericValueOutOfRange, "feature \"" + f.name + "\" is not a finite number",
              "NaN, Infinity and numbers beyond double precision are not accepted.");
}

// A finite number or an error naming the feature; NaN and infinities are refused. Inline:
// it runs for every number of every row scored or trained on.
inline double RequireFinite(const Feature& f, double x) {
  if (__builtin_expect(!std::isfinite(x), 0)) ThrowNotFinite(f);
  return x;
}

}  // namespace

namespace {

// A text the feature reads as a missing value ("?", say).
inline bool Sentinel(const Feature& f, const FeatureValue& v) {
  if (f.missing_values.empty() || v.kind != FeatureValue::Kind::kText) return false;
  return std::find(f.missing_values.begin(), f.missing_values.end(), v.text) != f.missing_values.end();
}

}  // namespace

void Model::SetMissingValues(const std::vector<std::string>& texts) {
  missing_values = texts;
  for (Feature& f : features) f.missing_values = texts;
}

bool ReadNumber(const Feature& f, const FeatureValue& v, double* out) {
  if (Sentinel(f, v)) return false;
  switch (v.kind) {
    case FeatureValue::Kind::kMissing: return false;
    case FeatureValue::Kind::kNumber: *out = Transformed(f, RequireFinite(f, v.number)); return true;
    case FeatureValue::Kind::kText: *out = Transformed(f, ParseNumber(v.text, f.name)); return true;
    default: ThrowWrongKind(f, v);
  }
}

bool ReadBool(const Feature& f, const FeatureValue& v, bool* out) {
  if (Sentinel(f, v)) return false;
  switch (v.kind) {
    case FeatureValue::Kind::kMissing: return false;
    case FeatureValue::Kind::kBool: *out = v.flag; return true;
    case FeatureValue::Kind::kText: *out = ParseBool(v.text, f.name); return true;
    case FeatureValue::Kind::kNumber:
      if (v.number == 0.0 || v.number == 1.0) {
        *out = v.number == 1.0;
        return true;
      }
      throw Error(ErrorCode::kInvalidParameterValue, "feature \"" + f.name + "\" is not a valid boolean",
                  "A boolean feature takes true/false, or the numbers 0 and 1.");
    default: ThrowWrongKind(f, v);
  }
}

bool ReadCategory(const Feature& f, const FeatureValue& v, std::string* buffer, std::string_view* out) {
  if (Sentinel(f, v)) return false;
  switch (v.kind) {
    case FeatureValue::Kind::kMissing: return false;
    case FeatureValue::Kind::kText: *out = v.text; return true;
    case FeatureValue::Kind::kNumber:
      *buffer = NumberAsCategory(RequireFinite(f, v.number));
      *out = *buffer;
      return true;
    case FeatureValue::Kind::kBool: *out = v.flag ? "true" : "false"; return true;
    default: ThrowWrongKind(f, v);
  }
}

int ReadSlot(const Feature& f, const FeatureValue& v) {
  if (Sentinel(f, v)) return -1;
  const int slots = f.kind == FeatureKind::kHourOfDay ? 24 : 7;
  switch (v.kind) {
    case FeatureValue::Kind::kMissing: return -1;
    case FeatureValue::Kind::kNumber: {
      double x = RequireFinite(f, v.number);
      if (x != std::floor(x) || x < 0 || x >= slots) {
        throw Error(ErrorCode::kInvalidParameterValue,
                    "feature \"" + f.name + "\" is not a valid " + FeatureKindName(f.kind),
                    f.kind == FeatureKind::kHourOfDay ? "An hour of day is an integer from 0 to 23."
                                                      : "A day of week is an integer from 0 (Sunday) to 6.");
      }
      return static_cast<int>(x);
    }
    case FeatureValue::Kind::kText: {
      DateTimeParts parts = ParseDateTime(v.text, f.name);
      if (parts.has_offset && f.local_time != nullptr)
        f.local_time->At(parts.unix_seconds, &parts.hour, &parts.day_of_week);
      return f.kind == FeatureKind::kHourOfDay ? parts.hour : parts.day_of_week;
    }
    default: ThrowWrongKind(f, v);
  }
}

const char* FeatureKindName(FeatureKind kind) noexcept {
  switch (kind) {
    case FeatureKind::kNumeric: return "numeric";
    case FeatureKind::kCategorical: return "categorical";
    case FeatureKind::kBoolean: return "boolean";
    case FeatureKind::kHourOfDay: return "hour_of_day";
    case FeatureKind::kDayOfWeek: return "day_of_week";
  }
  return "unknown";
}

void Feature::Prepare() {
  per_unit = kind == FeatureKind::kNumeric ? weight / scale : 0.0;
  slot_weights.clear();
  if (kind != FeatureKind::kHourOfDay && kind != FeatureKind::kDayOfWeek) return;
  slot_weights.assign(kind == FeatureKind::kHourOfDay ? 24 : 7, default_weight);
  for (const auto& [key, w] : weights) {
    size_t slot = static_cast<size_t>(std::stoi(key));
    if (slot < slot_weights.size()) slot_weights[slot] = w;
  }
}

long Feature::CategoryIndex(std::string_view category) const noexcept {
  auto find = [this](std::string_view key) -> long {
    auto it = std::lower_bound(weights.begin(), weights.end(), key,
                               [](const auto& entry, std::string_view k) { return entry.first < k; });
    return (it != weights.end() && it->first == key) ? static_cast<long>(it - weights.begin()) : -1;
  };
  const long exact = find(category);
  if (exact >= 0 || category.empty() || category.back() != ' ') return exact;
  // char(n) padding: the row readers drop it, to_jsonb keeps it ("NG "). A category with
  // trailing blanks the model does not know is read without them, so every path agrees.
  const size_t end = category.find_last_not_of(' ');
  return find(category.substr(0, end == std::string_view::npos ? 0 : end + 1));
}

double Feature::CategoryWeight(std::string_view category) const noexcept {
  const long i = CategoryIndex(category);
  return i >= 0 ? weights[static_cast<size_t>(i)].second : default_weight;
}

double Feature::Contribution(const FeatureValue& v) const {
  switch (kind) {
    case FeatureKind::kNumeric: {
      double x;
      return ReadNumber(*this, v, &x) ? per_unit * (x - mean) : 0.0;  // missing: imputed with the mean
    }
    case FeatureKind::kBoolean: {
      bool b;
      if (!ReadBool(*this, v, &b)) return weight * impute;
      return b ? weight : 0.0;
    }
    case FeatureKind::kCategorical: {
      std::string buffer;
      std::string_view category;
      return ReadCategory(*this, v, &buffer, &category) ? CategoryWeight(category)
                                                        : missing_weight.value_or(default_weight);
    }
    case FeatureKind::kHourOfDay:
    case FeatureKind::kDayOfWeek: {
      int slot = ReadSlot(*this, v);
      return slot < 0 ? default_weight : slot_weights[static_cast<size_t>(slot)];
    }
  }
  throw Error(ErrorCode::kInternal, "unknown feature kind");
}

double Model::Logit(const FeatureValue* values) const {
  if (scorer) return scorer->Logit(*this, values);
  double z = intercept;
  for (size_t i = 0; i < features.size(); ++i) {
    const Feature& f = features[i];
    const FeatureValue& v = values[i];
    // The hot case inline: a finite number for a numeric feature read as it is.
    if (f.kind == FeatureKind::kNumeric && !f.log1p && v.kind == FeatureValue::Kind::kNumber &&
        std::isfinite(v.number)) {
      z += f.per_unit * (v.number - f.mean);
    } else {
      z += f.Contribution(v);
    }
  }
  return z;
}

std::vector<double> Model::Contributions(const FeatureValue* values) const {
  std::vector<double> out(features.size());
  if (scorer) {
    scorer->Contributions(*this, values, out.data());
    return out;
  }
  for (size_t i = 0; i < features.size(); ++i) out[i] = features[i].Contribution(values[i]);
  return out;
}

double Model::CutLogit() const {
  if (threshold_logit) return *threshold_logit;
  if (threshold <= 0) return -INFINITY;
  if (threshold >= 1) return INFINITY;
  return std::log(threshold) - std::log1p(-threshold);
}

double Model::Sigmoid(double z) noexcept {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  double e = std::exp(z);
  return e / (1.0 + e);
}

}  // namespace pgfraud
