// Evaluation of scores against labels in memory bounded by a fixed number of bins.
//
// Scores are binned by logit: 8192 bins over [-20, 20] (width about 0.005; beyond, the end
// bins). ROC AUC and average precision treat rows of one bin as tied, as scikit-learn treats
// equal scores; a threshold is a bin edge, so every count at the chosen threshold is exact.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "training/training_options.hpp"

namespace pgfraud {

// Positive and negative counts per logit bin.
class ScoreHistogram {
 public:
  static constexpr int kBins = 8192;
  static constexpr double kLow = -20.0;
  static constexpr double kHigh = 20.0;

  ScoreHistogram() : positives_(kBins, 0.0), negatives_(kBins, 0.0) {}

  void Add(double logit, bool positive) noexcept;
  void Merge(const ScoreHistogram& other) noexcept;
  // The bin of a logit, and the logit at the lower edge of a bin.
  static int Bin(double logit) noexcept;
  static double LowerEdge(int bin) noexcept;

  const std::vector<double>& positives() const { return positives_; }
  const std::vector<double>& negatives() const { return negatives_; }
  double TotalPositives() const noexcept;
  double TotalNegatives() const noexcept;

  nlohmann::json ToJson() const;  // sparse: only non-empty bins
  static ScoreHistogram FromJson(const nlohmann::json& j);

 private:
  std::vector<double> positives_;
  std::vector<double> negatives_;
};

// The metrics stored with a model and returned by fraud_evaluate, at one threshold.
struct Metrics {
  double rows = 0, positives = 0;
  std::optional<double> roc_auc, pr_auc, log_loss;
  double threshold = 0.5;
  std::optional<double> precision, recall, f1;
  double tp = 0, fp = 0, tn = 0, fn = 0;

  nlohmann::json ToJson() const;
};

// The probability threshold a strategy picks on this histogram (a bin edge). An alert rate is
// a share of all rows: the labelled ones and `unlabelled` (rows without a label per bin;
// empty for none).
double ChooseThreshold(const ScoreHistogram& histogram, const ThresholdStrategy& strategy,
                       const std::vector<double>& unlabelled = {});

// Metrics of the histogram at a probability threshold; log_loss_sum is the summed log-loss.
Metrics Evaluate(const ScoreHistogram& histogram, double log_loss_sum, double threshold);

// log(1 + e^z) without overflow.
double Softplus(double z) noexcept;

}  // namespace pgfraud
