// Monitoring a model on new rows in one mergeable pass: evaluation against labels (metrics
// and curves at the model's threshold) and drift against the training references.
#pragma once

#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluation/metrics.hpp"
#include "model/model.hpp"

namespace pgfraud {

class Monitor {
 public:
  Monitor() = default;
  explicit Monitor(const Model& model);

  // Adds a row: values aligned with the model's features; label when evaluating.
  void Add(const Model& model, const FeatureValue* values, std::optional<bool> label);
  // A row whose label is NULL: counted, and its score kept for alert-rate thresholds (an alert
  // budget is a share of all scored rows, labelled or not).
  void AddUnlabelled(const Model& model, const FeatureValue* values);
  void Merge(const Monitor& other);

  std::vector<uint8_t> Serialize() const;
  static Monitor Deserialize(const uint8_t* data, size_t size);

  // Metrics at the model threshold, ROC and precision-recall curves (at most ~100 points).
  nlohmann::json Evaluation(const Model& model) const;
  // A suggested threshold for a strategy, on these rows: an alert rate on their exact logits
  // when they were kept (keep_logits), any other strategy on the histogram.
  ThresholdChoice Threshold(const ThresholdStrategy& strategy) const;
  // PSI per feature with a reference, then the score: [{"feature", "psi", "band"}, ...].
  nlohmann::json Drift(const Model& model) const;

  double rows = 0;
  double null_labels = 0;
  double loss = 0;
  ScoreHistogram histogram;
  std::vector<double> unlabelled;            // rows without a label, per histogram bin (empty: none yet)
  std::vector<std::vector<double>> buckets;  // per feature: counts per reference bucket
  std::vector<double> score_buckets;
  // The confusion matrix at the model's own cut, counted row by row (exact wherever the cut
  // falls in a histogram bin): tp, fp, tn, fn.
  double cut_logit = INFINITY;
  double confusion[4] = {0, 0, 0, 0};
  // Every row's logit, for an exact alert budget (8 bytes a row; set before the first Add).
  bool keep_logits = false;
  std::vector<double> logits;

 private:
  void Count(double logit, std::optional<bool> label);
};

}  // namespace pgfraud
