// ROC AUC, average precision, threshold choice and the confusion matrix from score histograms.
#include "evaluation/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace pgfraud {
namespace {

constexpr double kWidth = (ScoreHistogram::kHigh - ScoreHistogram::kLow) / ScoreHistogram::kCoreBins;
constexpr double kGrowth = 1.01;  // each tail bin is 1% wider than the one before

// How far past the core a tail bin's lower edge is: kWidth * (1 + g + ... + g^(k-1)).
double TailOffset(int k) { return kWidth * (std::pow(kGrowth, k) - 1.0) / (kGrowth - 1.0); }
// The tail bin (0..kTailBins-1) of a distance d >= 0 past the core.
int TailBin(double d) {
  const double k = std::floor(std::log1p(d * (kGrowth - 1.0) / kWidth) / std::log(kGrowth));
  if (!(k < ScoreHistogram::kTailBins)) return ScoreHistogram::kTailBins - 1;
  int b = static_cast<int>(k);
  // log rounding at an edge: the bin whose edges hold d
  if (b > 0 && TailOffset(b) > d) --b;
  if (b + 1 < ScoreHistogram::kTailBins && TailOffset(b + 1) <= d) ++b;
  return b;
}

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

// Bins 0..kTailBins-1: the low tail, outermost first; then the core; then the high tail.
int ScoreHistogram::Bin(double logit) noexcept {
  if (std::isnan(logit)) return 0;
  if (logit < kLow) return kTailBins - 1 - TailBin(kLow - logit);
  if (logit >= kHigh) return kTailBins + kCoreBins + TailBin(logit - kHigh);
  int b = static_cast<int>((logit - kLow) / kWidth);
  return kTailBins + std::min(std::max(b, 0), kCoreBins - 1);
}

double ScoreHistogram::LowerEdge(int bin) noexcept {
  if (bin <= 0) return -INFINITY;
  if (bin < kTailBins) return kLow - TailOffset(kTailBins - bin);  // the upper edge of the bin below
  if (bin < kTailBins + kCoreBins) return kLow + (bin - kTailBins) * kWidth;
  return kHigh + TailOffset(bin - kTailBins - kCoreBins);
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

ThresholdChoice ThresholdChoice::AtLogit(double logit) {
  ThresholdChoice c;
  c.logit = logit;
  c.probability = logit == -INFINITY ? 0.0 : logit == INFINITY ? 1.0 : Sigmoid(logit);
  return c;
}

ThresholdChoice ThresholdChoice::AtProbability(double p) {
  ThresholdChoice c;
  c.probability = p;
  c.logit = p <= 0 ? -INFINITY : p >= 1 ? INFINITY : std::log(p) - std::log1p(-p);
  return c;
}

std::optional<double> ThresholdChoice::DocumentLogit() const {
  return std::isfinite(logit) ? std::optional<double>(logit) : std::nullopt;
}

ThresholdChoice AlertRateLogit(std::vector<double> logits, double rate) {
  const size_t n = logits.size();
  const size_t budget = static_cast<size_t>(std::floor(rate * static_cast<double>(n) + 1e-9));
  if (budget == 0) return ThresholdChoice::AtLogit(INFINITY);
  if (budget >= n) return ThresholdChoice::AtLogit(-INFINITY);
  std::sort(logits.begin(), logits.end(), std::greater<double>());  // NaN: none (never scored)
  // The most alerts within the budget: the cut sits above the budget-th highest logit unless
  // it ties with the next one, then above the highest logit of that tie.
  size_t flagged = budget;
  while (flagged > 0 && logits[flagged - 1] == logits[flagged]) --flagged;
  if (flagged == 0) return ThresholdChoice::AtLogit(INFINITY);
  const double above = logits[flagged - 1], below = logits[flagged];
  // Halfway (so that the same rows re-scored with another rounding fall on the same side),
  // and never at the lower logit itself.
  double cut = above / 2 + below / 2;
  if (!(cut > below) || cut > above) cut = above;
  return ThresholdChoice::AtLogit(cut);
}

ThresholdChoice ChooseThreshold(const ScoreHistogram& h, const ThresholdStrategy& strategy,
                                const std::vector<double>& unlabelled) {
  if (strategy.kind == ThresholdStrategy::Kind::kFixed) return ThresholdChoice::AtProbability(strategy.target);
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
      default: break;
    }
  }
  if (best >= ScoreHistogram::kBins) return ThresholdChoice::AtLogit(INFINITY);  // nothing can be flagged
  return ThresholdChoice::AtLogit(ScoreHistogram::LowerEdge(best));
}

Metrics Evaluate(const ScoreHistogram& h, double log_loss_sum, const ThresholdChoice& threshold) {
  Metrics m;
  const std::vector<Cut> cuts = CutsFromTop(h);
  const double P = cuts[0].tp, N = cuts[0].fp;
  m.rows = P + N;
  m.positives = P;
  m.threshold = threshold.probability;
  m.threshold_logit = threshold.DocumentLogit();
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
  // Flagged: bins whose lower edge is at or above the cut.
  const double cut_logit = threshold.logit;
  int k = ScoreHistogram::kBins;
  for (int b = 0; b < ScoreHistogram::kBins; ++b) {
    if (ScoreHistogram::LowerEdge(b) >= cut_logit - 1e-12) {
      k = b;
      break;
    }
  }
  m.SetConfusion(cuts[k].tp, cuts[k].fp, N - cuts[k].fp, P - cuts[k].tp);
  return m;
}

void Metrics::SetConfusion(double tp_, double fp_, double tn_, double fn_) {
  tp = tp_;
  fp = fp_;
  tn = tn_;
  fn = fn_;
  precision = tp + fp > 0 ? std::optional<double>(tp / (tp + fp)) : std::nullopt;
  recall = tp + fn > 0 ? std::optional<double>(tp / (tp + fn)) : std::nullopt;
  f1 = precision && recall && *precision + *recall > 0
           ? std::optional<double>(2 * *precision * *recall / (*precision + *recall))
           : std::nullopt;
}

nlohmann::json Metrics::ToJson() const {
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  auto count = [](double c) { return static_cast<int64_t>(std::llround(c)); };
  nlohmann::json j = {{"rows", count(rows)},
                      {"positives", count(positives)},
                      {"roc_auc", opt(roc_auc)},
                      {"pr_auc", opt(pr_auc)},
                      {"log_loss", opt(log_loss)},
                      {"threshold", threshold},
                      {"precision", opt(precision)},
                      {"recall", opt(recall)},
                      {"f1", opt(f1)},
                      {"confusion", {{"tp", count(tp)}, {"fp", count(fp)}, {"tn", count(tn)}, {"fn", count(fn)}}}};
  if (threshold_logit) j["threshold_logit"] = *threshold_logit;
  return j;
}

}  // namespace pgfraud
