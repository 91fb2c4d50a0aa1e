// ROC AUC, average precision, threshold choice and the confusion matrix from score histograms.
#include "evaluation/metrics.hpp"

#include <algorithm>
#include <cmath>

namespace pgfraud {
namespace {

constexpr double kWidth = (ScoreHistogram::kHigh - ScoreHistogram::kLow) / ScoreHistogram::kBins;

double Sigmoid(double z) { return z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z)); }

// Counts flagged when every bin from `cut` upwards is flagged.
struct Cut {
  double tp, fp;
};

std::vector<Cut> CutsFromTop(const ScoreHistogram& h) {
  // cuts[k]: flag bins k..kBins-1; cuts[kBins]: flag nothing.
  std::vector<Cut> cuts(ScoreHistogram::kBins + 1, Cut{0, 0});
  for (int b = ScoreHistogram::kBins - 1; b >= 0; --b) {
    cuts[b].tp = cuts[b + 1].tp + h.positives()[b];
    cuts[b].fp = cuts[b + 1].fp + h.negatives()[b];
  }
  return cuts;
}

}  // namespace

double Softplus(double z) noexcept { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }

void ScoreHistogram::Add(double logit, bool positive) noexcept {
  (positive ? positives_ : negatives_)[static_cast<size_t>(Bin(logit))] += 1.0;
}

void ScoreHistogram::Merge(const ScoreHistogram& o) noexcept {
  for (int b = 0; b < kBins; ++b) {
    positives_[b] += o.positives_[b];
    negatives_[b] += o.negatives_[b];
  }
}

int ScoreHistogram::Bin(double logit) noexcept {
  if (!(logit > kLow)) return 0;  // also NaN
  if (logit >= kHigh) return kBins - 1;
  int b = static_cast<int>((logit - kLow) / kWidth);
  return std::min(std::max(b, 0), kBins - 1);
}

double ScoreHistogram::LowerEdge(int bin) noexcept {
  if (bin <= 0) return -INFINITY;
  return kLow + bin * kWidth;
}

double ScoreHistogram::TotalPositives() const noexcept {
  double s = 0;
  for (double c : positives_) s += c;
  return s;
}

double ScoreHistogram::TotalNegatives() const noexcept {
  double s = 0;
  for (double c : negatives_) s += c;
  return s;
}

nlohmann::json ScoreHistogram::ToJson() const {
  nlohmann::json bins = nlohmann::json::array();
  for (int b = 0; b < kBins; ++b) {
    if (positives_[b] != 0 || negatives_[b] != 0) bins.push_back({b, positives_[b], negatives_[b]});
  }
  return bins;
}

ScoreHistogram ScoreHistogram::FromJson(const nlohmann::json& j) {
  ScoreHistogram h;
  for (const auto& bin : j) {
    int b = bin[0].get<int>();
    if (b < 0 || b >= kBins) continue;
    h.positives_[b] = bin[1].get<double>();
    h.negatives_[b] = bin[2].get<double>();
  }
  return h;
}

double ChooseThreshold(const ScoreHistogram& h, const ThresholdStrategy& strategy, const std::vector<double>& unlabelled) {
  if (strategy.kind == ThresholdStrategy::Kind::kFixed) return strategy.target;
  const std::vector<Cut> cuts = CutsFromTop(h);
  const double P = cuts[0].tp, N = cuts[0].fp;
  // Unlabelled rows at or above each cut (for alert rates only).
  std::vector<double> above(ScoreHistogram::kBins + 1, 0.0);
  for (int b = static_cast<int>(unlabelled.size()) - 1; b >= 0; --b) above[b] = above[b + 1] + unlabelled[b];
  const double U = above[0];
  int best = ScoreHistogram::kBins;  // flag nothing
  double best_value = -1.0;
  // From the highest cut down; on ties the higher threshold (fewer alerts) wins.
  for (int k = ScoreHistogram::kBins - 1; k >= 0; --k) {
    const double tp = cuts[k].tp, fp = cuts[k].fp, flagged = tp + fp;
    if (strategy.kind == ThresholdStrategy::Kind::kAlertRate) {
      // The most alerts within the rate, of all rows; among equal counts the highest threshold.
      const double alerts = flagged + above[k];
      if (alerts > 0 && alerts / (P + N + U) <= strategy.target && alerts > best_value) {
        best_value = alerts;
        best = k;
      }
      continue;
    }
    if (flagged == 0) continue;
    const double precision = tp / flagged;
    const double recall = P > 0 ? tp / P : 0.0;
    switch (strategy.kind) {
      case ThresholdStrategy::Kind::kF1: {
        double f1 = (precision + recall) > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
        if (f1 > best_value) {
          best_value = f1;
          best = k;
        }
        break;
      }
      case ThresholdStrategy::Kind::kPrecision:
        // The lowest threshold that still keeps the precision: the most recall at that precision.
        if (precision >= strategy.target && recall > best_value) {
          best_value = recall;
          best = k;
        }
        break;
      case ThresholdStrategy::Kind::kRecall:
        if (recall >= strategy.target && best_value < 0) {
          best_value = recall;  // the highest threshold reaching the recall
          best = k;
        }
        break;
      default:
        break;
    }
  }
  if (best >= ScoreHistogram::kBins) return 1.0;  // nothing can be flagged under the strategy
  return best == 0 ? 0.0 : Sigmoid(ScoreHistogram::LowerEdge(best));
}

Metrics Evaluate(const ScoreHistogram& h, double log_loss_sum, double threshold) {
  Metrics m;
  const std::vector<Cut> cuts = CutsFromTop(h);
  const double P = cuts[0].tp, N = cuts[0].fp;
  m.rows = P + N;
  m.positives = P;
  m.threshold = threshold;
  if (m.rows > 0) m.log_loss = log_loss_sum / m.rows;
  if (P > 0 && N > 0) {
    double auc = 0.0, ap = 0.0;
    for (int b = ScoreHistogram::kBins - 1; b >= 0; --b) {
      const double pos = h.positives()[b], neg = h.negatives()[b];
      auc += pos * (N - cuts[b].fp + 0.5 * neg);  // negatives below this bin, half of those in it
      if (pos > 0) ap += (pos / P) * (cuts[b].tp / (cuts[b].tp + cuts[b].fp));
    }
    m.roc_auc = auc / (P * N);
    m.pr_auc = ap;
  }
  // Flagged: bins whose lower edge is at or above logit(threshold).
  const double cut_logit = threshold <= 0 ? -INFINITY : threshold >= 1 ? INFINITY : std::log(threshold / (1 - threshold));
  int k = ScoreHistogram::kBins;
  for (int b = 0; b < ScoreHistogram::kBins; ++b) {
    if (ScoreHistogram::LowerEdge(b) >= cut_logit - 1e-12) {
      k = b;
      break;
    }
  }
  m.tp = cuts[k].tp;
  m.fp = cuts[k].fp;
  m.fn = P - m.tp;
  m.tn = N - m.fp;
  if (m.tp + m.fp > 0) m.precision = m.tp / (m.tp + m.fp);
  if (P > 0) m.recall = m.tp / P;
  if (m.precision && m.recall && (*m.precision + *m.recall) > 0) {
    m.f1 = 2 * *m.precision * *m.recall / (*m.precision + *m.recall);
  }
  return m;
}

nlohmann::json Metrics::ToJson() const {
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  auto count = [](double c) { return static_cast<int64_t>(std::llround(c)); };
  return {{"rows", count(rows)}, {"positives", count(positives)}, {"roc_auc", opt(roc_auc)},
          {"pr_auc", opt(pr_auc)}, {"log_loss", opt(log_loss)}, {"threshold", threshold},
          {"precision", opt(precision)}, {"recall", opt(recall)}, {"f1", opt(f1)},
          {"confusion", {{"tp", count(tp)}, {"fp", count(fp)}, {"tn", count(tn)}, {"fn", count(fn)}}}};
}

}  // namespace pgfraud
