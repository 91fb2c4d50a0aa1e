// The model of a pg_fraud.model/1 document and how it scores: logistic regression here, other
// algorithms (gradient-boosted trees: trees/tree_ensemble.hpp) through model/algorithm.hpp.
#pragma once

#include <cmath>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include <optional>

#include "common/feature_value.hpp"
#include "history/history_spec.hpp"
#include "model/algorithm.hpp"

namespace pgfraud {

// How a feature turns an input value into a term of the logit.
enum class FeatureKind { kNumeric, kCategorical, kBoolean, kHourOfDay, kDayOfWeek };

// The document spelling of a kind ("numeric", "hour_of_day", ...).
const char* FeatureKindName(FeatureKind kind) noexcept;

// The hour and weekday of an instant in a model's time zone. The core has no time-zone
// database; the glue implements this with PostgreSQL's and sets Feature::local_time.
class LocalTime {
 public:
  virtual ~LocalTime() = default;
  virtual void At(int64_t unix_seconds, int* hour, int* day_of_week) const = 0;
};

// One feature of a model: its source key, kind and parameters.
struct Feature {
  std::string name;
  FeatureKind kind = FeatureKind::kNumeric;
  double mean = 0.0;    // numeric: the training mean, also the imputed value
  double scale = 1.0;   // numeric: the training standard deviation (> 0)
  double weight = 0.0;  // numeric and boolean
  double impute = 0.0;  // boolean: the value used when the input is missing
  // categorical, hour_of_day, day_of_week: weight per value, sorted by key.
  std::vector<std::pair<std::string, double>> weights;
  double default_weight = 0.0;  // unknown or missing category
  // categorical: the weight of a missing value when it differs from an unknown category's
  // (document "missing_weight"; scikit-learn's imputed "(missing)" category, say).
  std::optional<double> missing_weight;
  std::vector<double> slot_weights;  // hour_of_day (24) / day_of_week (7), derived from weights
  double per_unit = 0.0;             // numeric: weight / scale, derived by Prepare()
  // numeric: the number is read as sign(x) * log1p(|x|) (document "transform": "log1p"), which
  // tames heavy tails such as amounts; mean and scale are of the transformed values.
  bool log1p = false;
  // Texts read as a missing value (the document's "missing_values", e.g. "?"), any kind.
  std::vector<std::string> missing_values;
  nlohmann::json extra = nlohmann::json::object();  // keys the core keeps but does not read
  // A history feature (document kind "history", scored as numeric): its index in the
  // model's HistorySpec::Features(); -1 for a feature read from the transaction.
  int history = -1;
  // hour_of_day, day_of_week: reads a text with a UTC offset in the model's time zone (not
  // owned; nullptr: the hour and weekday as written).
  const LocalTime* local_time = nullptr;

  // This feature's term of the logit for one input value; throws Error on a value of the wrong kind.
  double Contribution(const FeatureValue& value) const;

  // Computes the derived fields (per_unit, slot_weights) from the document fields.
  void Prepare();

  // The position of a category in `weights`, -1 when the model has not seen it; a category
  // with trailing blanks (char(n) padding) the model does not know is looked up without them.
  long CategoryIndex(std::string_view category) const noexcept;

  // The weight of a category, or default_weight when the model has not seen it.
  double CategoryWeight(std::string_view category) const noexcept;
};

// Value readers shared by scoring and training; each throws Error naming the feature.
// The number of a numeric feature's value; false when it is missing.
bool ReadNumber(const Feature& f, const FeatureValue& v, double* out);
// A numeric feature's number as the model reads it: sign(x) * log1p(|x|) under "log1p".
inline double Transformed(const Feature& f, double x) {
  return f.log1p ? std::copysign(std::log1p(std::fabs(x)), x) : x;
}
// The boolean of a boolean feature's value; false when it is missing.
bool ReadBool(const Feature& f, const FeatureValue& v, bool* out);
// The category text of a categorical feature's value; false when it is missing.
// `buffer` holds the text of numbers and booleans; *out may point into it or into v.
bool ReadCategory(const Feature& f, const FeatureValue& v, std::string* buffer, std::string_view* out);
// The hour (0..23) or weekday (0..6) of a time feature's value; -1 when it is missing.
int ReadSlot(const Feature& f, const FeatureValue& v);

// A model: score = sigmoid(logit). Logistic regression: the logit is the intercept plus each
// feature's contribution. Another algorithm ("scorer" set): its logit; `intercept` is then its
// base logit (for trees the ensemble's expected margin, TreeSHAP's base value), which the
// features' contributions add to.
struct Model {
  std::string algorithm = "logistic_regression";
  double intercept = 0.0;
  std::shared_ptr<const Algorithm> scorer;  // algorithms other than logistic regression (shared: models are copied)
  double threshold = 0.5;
  // The cut in logits (document key "threshold_logit"): rows whose logit reaches it are
  // flagged. Without it (documents before 0.3.0, thresholds of 0 or 1) a row is flagged when
  // its probability reaches `threshold`, which cannot tell logits above ~36.7 apart.
  std::optional<double> threshold_logit;
  std::vector<Feature> features;
  std::string label;
  nlohmann::json metrics = nlohmann::json::object();
  nlohmann::json training = nlohmann::json::object();
  nlohmann::json extra = nlohmann::json::object();  // top-level keys kept on export
  std::optional<HistorySpec> history;               // the history declaration, when the model has one
  // The time zone hour_of_day and day_of_week were trained in and are scored in (an IANA
  // name); empty in documents before 0.3.0: the session's zone.
  std::string time_zone;
  // Texts any feature reads as missing (document "missing_values"; copied into each feature).
  std::vector<std::string> missing_values;
  // Sets missing_values on the model and each of its features.
  void SetMissingValues(const std::vector<std::string>& texts);

  // The log-odds of fraud for values aligned with `features`.
  double Logit(const FeatureValue* values) const;

  // The probability of fraud for values aligned with `features`.
  double Score(const FeatureValue* values) const { return Sigmoid(Logit(values)); }

  // Whether a row of this logit reaches the threshold (rules aside).
  bool Flags(double logit) const { return threshold_logit ? logit >= *threshold_logit : Sigmoid(logit) >= threshold; }
  // The cut in logits Flags applies: threshold_logit, else logit(threshold) (+-infinity at 1 / 0).
  double CutLogit() const;

  // Each feature's contribution to the logit, aligned with `features`.
  std::vector<double> Contributions(const FeatureValue* values) const;

  // The logistic function, stable for large |z|.
  static double Sigmoid(double z) noexcept;
};

}  // namespace pgfraud
