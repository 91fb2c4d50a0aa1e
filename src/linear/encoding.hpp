// Turns a row's feature values into the numeric vector logistic regression trains on, and the
// trained coefficients back into a pg_fraud.model/1 model.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/feature_value.hpp"
#include "model/model.hpp"
#include "training/training_stats.hpp"

namespace pgfraud {

// One feature of the reading model and the columns of x it occupies.
struct EncodedFeature {
  size_t source = 0;  // index in the reading model
  FeatureKind kind = FeatureKind::kNumeric;
  size_t offset = 0;  // first column in x
  size_t width = 1;
  double mean = 0.0;                    // numeric: training mean (the imputed value)
  double scale = 1.0;                   // numeric: training standard deviation, 1 for a constant column
  double impute = 0.0;                  // boolean: the training fraction of true
  std::vector<std::string> categories;  // categorical, sorted; the column after them is "other"
};

// The layout of x: column 0 is the intercept, then each feature's columns.
class Encoding {
 public:
  size_t dim = 1;
  std::vector<EncodedFeature> features;

  // Writes x (dim entries) for one row; throws Error naming a feature on a bad value.
  void Encode(const Model& reading, const FeatureValue* values, double* x) const;

  // The model with coefficients beta (dim entries): features, weights, intercept.
  Model ToModel(const Model& reading, const double* beta) const;

  // Which columns the L2 penalty applies to: all but the intercept.
  bool Penalized(size_t column) const noexcept { return column != 0; }

  nlohmann::json ToJson() const;
  static Encoding FromJson(const nlohmann::json& j);
};

// Builds the encoding from the first pass's statistics. Identifier-like text columns (no
// value repeats) are left out; each choice a user should know of is appended to `notices`.
Encoding BuildEncoding(const Model& reading, const TrainingStats& stats, size_t max_categories,
                       std::vector<std::string>* notices);

}  // namespace pgfraud
