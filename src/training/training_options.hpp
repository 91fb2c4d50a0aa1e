// The options of train_fraud_model (docs/training.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pgfraud {

// How the decision threshold is chosen on the evaluation rows.
struct ThresholdStrategy {
  enum class Kind { kF1, kPrecision, kRecall, kAlertRate, kFixed };
  Kind kind = Kind::kF1;
  double target = 0.0;  // precision, recall or alert rate to reach; the value for kFixed
};

// The options of gradient-boosted trees (XGBoost's parameters of the same meaning, and
// XGBoost's defaults).
struct BoostingOptions {
  int trees = 100;  // boosting rounds (num_boost_round)
  int max_depth = 6;
  double learning_rate = 0.3;  // eta
  double min_child_weight = 1.0;
  double subsample = 1.0;
  double colsample_bytree = 1.0;
  double reg_lambda = 1.0;  // L2 on leaf values
  double reg_alpha = 0.0;   // L1 on leaf values
  double gamma = 0.0;       // min_split_loss
  int max_bin = 256;
  int threads = 0;  // nthread; 0: the cores a query may use (the glue's)
};

// Parsed and validated training options, with their documented defaults.
struct TrainingOptions {
  std::vector<std::string> features;  // empty: every usable column but the label
  std::vector<std::string> exclude;
  double l2 = 1.0;        // lambda on the summed log-loss; lambda = 1/C
  bool balanced = false;  // class_weight "balanced"
  int max_iter = 50;      // Newton iterations (one pass over the data each)
  double tol = 1e-8;      // on the Newton decrement, relative to the objective
  double holdout = 0.2;
  uint64_t seed = 42;
  ThresholdStrategy threshold;
  bool activate = true;
  int max_categories = 50;
  // Training rows kept whole in the statistics pass to fit a starting point in memory; the
  // passes over the table then start near the optimum. 0: start at the base rate.
  int warm_start_rows = 20000;
  // Keep every row in memory during the statistics pass when the source fits the budget the
  // glue gives (maintenance_work_mem): training then makes no further pass over the table.
  bool in_memory = true;
  // The "history" declaration as given (the glue parses it: windows are PostgreSQL
  // intervals); null when the model has no history features.
  nlohmann::json history;
  // "time" (the latest rows are held out; the default with history) or "random" (by row hash).
  bool holdout_by_time = false;
  std::string time_zone;  // hour_of_day and day_of_week in this zone (empty: the session's)
  // A boolean column naming the held-out rows (true: held out; NULL or false: trained on);
  // empty: the holdout is drawn (exact per class where the table is read directly).
  std::string holdout_column;
  // Set by the glue, never by the user: each row comes with its side (RowSplit::Marked), so
  // one pass reads the training rows and the held-out ones (a time holdout).
  bool marked_holdout = false;
  // Numeric feature columns read as sign(x) * log1p(|x|) (heavy-tailed amounts, say).
  std::vector<std::string> log1p;
  // Texts read as missing values in every column, the label too (pandas' na_values).
  std::vector<std::string> missing_values;

  // "algorithm": "gradient_boosting" (trees trained with libxgboost) instead of
  // "logistic_regression", the default.
  bool boosting = false;
  BoostingOptions boosting_options;

  // The options as given, for the model's "training" record.
  nlohmann::json given = nlohmann::json::object();
};

// Parses the options object; throws Error(kInvalidParameterValue) naming the bad option.
TrainingOptions ParseTrainingOptions(const nlohmann::json& options);

// The document spelling of a strategy, e.g. {"strategy": "precision", "target": 0.9}.
nlohmann::json ThresholdStrategyJson(const ThresholdStrategy& strategy);

}  // namespace pgfraud
