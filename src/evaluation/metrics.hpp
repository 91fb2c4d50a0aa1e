// Evaluation of scores against labels in memory bounded by a fixed number of bins.
//
// Scores are binned by logit: 8192 bins over [-20, 20] (width about 0.005), and beyond, 1024
// bins on each side whose widths grow by 1% a bin (out to |logit| ~ 13,000; then the end
// bins), so that scores far out in the tails, whose probabilities round to 0 or 1, still
// rank apart. ROC AUC and average precision treat rows of one bin as tied, as scikit-learn
// treats equal scores; a threshold is a bin edge, so every count at the chosen threshold is
// exact. An alert budget over rows is chosen on their exact logits (AlertRateLogit).
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "training/training_options.hpp"

namespace pgfraud {

// Positive and negative counts per logit bin.
class ScoreHistogram {
 public:
  static constexpr int kCoreBins = 8192;  // uniform over [kLow, kHigh)
  static constexpr int kTailBins = 1024;  // geometric, on each side
  static constexpr int kBins = kCoreBins + 2 * kTailBins;
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
  std::optional<double> threshold_logit;  // the cut in logits, when the model has one
  std::optional<double> precision, recall, f1;
  double tp = 0, fp = 0, tn = 0, fn = 0;

  // Sets the confusion matrix and the precision, recall and F1 it gives.
  void SetConfusion(double tp, double fp, double tn, double fn);
  nlohmann::json ToJson() const;
};

// A chosen threshold: the cut in logits (rows at or above it are flagged; +infinity: flag
// nothing, -infinity: everything) and its probability, which rounds to 1 beyond a logit of
// about 36.7 (only the logit tells such cuts apart).
struct ThresholdChoice {
  double logit = INFINITY;
  double probability = 1.0;
  static ThresholdChoice AtLogit(double logit);
  static ThresholdChoice AtProbability(double p);  // a fixed threshold
  // A model's: its probability and the cut it flags at (Model::threshold, Model::CutLogit).
  static ThresholdChoice Of(double probability, double cut_logit) { return {cut_logit, probability}; }
  // The document's "threshold_logit": the logit when finite (none for flag-all / flag-none).
  std::optional<double> DocumentLogit() const;
};

// The threshold a strategy picks on this histogram (a bin edge). An alert rate is a share of
// all rows: the labelled ones and `unlabelled` (rows without a label per bin; empty for none).
ThresholdChoice ChooseThreshold(const ScoreHistogram& histogram, const ThresholdStrategy& strategy,
                                const std::vector<double>& unlabelled = {});

// An alert budget on exact logits: the cut flagging the most rows within `rate` of them all
// (rows tied at the cut are all flagged or none), placed halfway to the next lower logit.
ThresholdChoice AlertRateLogit(std::vector<double> logits, double rate);

// Metrics of the histogram at a threshold; log_loss_sum is the summed log-loss.
Metrics Evaluate(const ScoreHistogram& histogram, double log_loss_sum, const ThresholdChoice& threshold);

// log(1 + e^z) without overflow.
double Softplus(double z) noexcept;

}  // namespace pgfraud
