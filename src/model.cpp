// Scoring: each feature kind's contribution to the logit, exactly as DESIGN.md defines it.
#include "model.hpp"

#include <algorithm>
#include <cmath>

#include "errors.hpp"
#include "value_parsing.hpp"

namespace pgfraud {
namespace {

[[noreturn]] void ThrowWrongKind(const Feature& f, const FeatureValue& v) {
  throw Error(ErrorCode::kInvalidParameterValue,
              "feature \"" + f.name + "\" of kind " + FeatureKindName(f.kind) + " cannot take " +
                  (v.kind == FeatureValue::Kind::kOther ? std::string(v.text) : std::string("a boolean")),
              "Numbers, strings, booleans and null are accepted where the feature kind allows.");
}

// A finite number or an error naming the feature; NaN and infinities are refused.
double RequireFinite(const Feature& f, double x) {
  if (!std::isfinite(x)) {
    throw Error(ErrorCode::kNumericValueOutOfRange, "feature \"" + f.name + "\" is not a finite number",
                "NaN, Infinity and numbers beyond double precision are not accepted.");
  }
  return x;
}

// The hour (0..23) or weekday (0..6) slot of a time feature's value; -1 when missing.
int TimeSlot(const Feature& f, const FeatureValue& v) {
  const int slots = f.kind == FeatureKind::kHourOfDay ? 24 : 7;
  switch (v.kind) {
    case FeatureValue::Kind::kMissing:
      return -1;
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
      return f.kind == FeatureKind::kHourOfDay ? parts.hour : parts.day_of_week;
    }
    default:
      ThrowWrongKind(f, v);
  }
}

}  // namespace

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

double Feature::CategoryWeight(std::string_view category) const noexcept {
  auto it = std::lower_bound(weights.begin(), weights.end(), category,
                             [](const auto& entry, std::string_view key) { return entry.first < key; });
  return (it != weights.end() && it->first == category) ? it->second : default_weight;
}

double Feature::Contribution(const FeatureValue& v) const {
  switch (kind) {
    case FeatureKind::kNumeric:
      switch (v.kind) {
        case FeatureValue::Kind::kMissing: return 0.0;  // imputed with the mean
        case FeatureValue::Kind::kNumber: return per_unit * (RequireFinite(*this, v.number) - mean);
        case FeatureValue::Kind::kText: return per_unit * (ParseNumber(v.text, name) - mean);
        default: ThrowWrongKind(*this, v);
      }
    case FeatureKind::kBoolean:
      switch (v.kind) {
        case FeatureValue::Kind::kMissing: return weight * impute;
        case FeatureValue::Kind::kBool: return v.flag ? weight : 0.0;
        case FeatureValue::Kind::kText: return ParseBool(v.text, name) ? weight : 0.0;
        case FeatureValue::Kind::kNumber:
          if (v.number == 0.0 || v.number == 1.0) return weight * v.number;
          throw Error(ErrorCode::kInvalidParameterValue, "feature \"" + name + "\" is not a valid boolean",
                      "A boolean feature takes true/false, or the numbers 0 and 1.");
        default: ThrowWrongKind(*this, v);
      }
    case FeatureKind::kCategorical:
      switch (v.kind) {
        case FeatureValue::Kind::kMissing: return default_weight;
        case FeatureValue::Kind::kText: return CategoryWeight(v.text);
        case FeatureValue::Kind::kNumber: return CategoryWeight(NumberAsCategory(RequireFinite(*this, v.number)));
        case FeatureValue::Kind::kBool: return CategoryWeight(v.flag ? "true" : "false");
        default: ThrowWrongKind(*this, v);
      }
    case FeatureKind::kHourOfDay:
    case FeatureKind::kDayOfWeek: {
      int slot = TimeSlot(*this, v);
      return slot < 0 ? default_weight : slot_weights[static_cast<size_t>(slot)];
    }
  }
  throw Error(ErrorCode::kInternal, "unknown feature kind");
}

double Model::Logit(const FeatureValue* values) const {
  double z = intercept;
  for (size_t i = 0; i < features.size(); ++i) {
    const Feature& f = features[i];
    const FeatureValue& v = values[i];
    // The hot case inline: a finite number for a numeric feature.
    if (f.kind == FeatureKind::kNumeric && v.kind == FeatureValue::Kind::kNumber && std::isfinite(v.number)) {
      z += f.per_unit * (v.number - f.mean);
    } else {
      z += f.Contribution(v);
    }
  }
  return z;
}

std::vector<double> Model::Contributions(const FeatureValue* values) const {
  std::vector<double> out(features.size());
  for (size_t i = 0; i < features.size(); ++i) out[i] = features[i].Contribution(values[i]);
  return out;
}

double Model::Sigmoid(double z) noexcept {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  double e = std::exp(z);
  return e / (1.0 + e);
}

}  // namespace pgfraud
