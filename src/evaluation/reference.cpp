// References built at training time, buckets looked up at monitoring time.
#include "evaluation/reference.hpp"

#include <algorithm>
#include <cmath>

namespace pgfraud {
namespace {

using nlohmann::json;

std::vector<double> Normalise(std::vector<double> counts) {
  double total = 0;
  for (double c : counts) total += c;
  for (double& c : counts) c = total > 0 ? c / total : 0.0;
  return counts;
}

json NumericReference(const TrainingStats& stats, size_t source) {
  std::vector<double> values;
  double missing = 0;
  for (const SampleRow& row : stats.sample) {
    double x = row.numbers[source];
    if (std::isnan(x)) {
      ++missing;
    } else {
      values.push_back(x);
    }
  }
  std::sort(values.begin(), values.end());
  std::vector<double> edges;
  for (int d = 1; d <= 9 && !values.empty(); ++d) {
    double edge = values[static_cast<size_t>(d * values.size() / 10)];
    if (edges.empty() || edge > edges.back()) edges.push_back(edge);
  }
  std::vector<double> counts(edges.size() + 2, 0.0);
  for (double x : values)
    counts[static_cast<size_t>(std::upper_bound(edges.begin(), edges.end(), x) - edges.begin())] += 1;
  counts.back() = missing;
  return {{"edges", edges}, {"proportions", Normalise(counts)}};
}

}  // namespace

void AttachReferences(Model& model, const Encoding& encoding, const TrainingStats& stats) {
  for (size_t i = 0; i < encoding.features.size() && i < model.features.size(); ++i) {
    const EncodedFeature& e = encoding.features[i];
    Feature& f = model.features[i];
    switch (e.kind) {
      case FeatureKind::kNumeric: f.extra["reference"] = NumericReference(stats, e.source); break;
      case FeatureKind::kBoolean: {
        const RunningMoments& m = stats.moments[e.source];
        double missing = std::max(0.0, stats.training_rows - m.count);
        f.extra["reference"] = {{"proportions", Normalise({m.count * (1 - m.mean), m.count * m.mean, missing})}};
        break;
      }
      case FeatureKind::kCategorical: {
        std::vector<double> counts;
        double kept = 0;
        for (const std::string& category : e.categories) {
          double c = 0;
          for (const auto& entry : stats.categories[e.source].Top(e.categories.size() + 1)) {
            if (entry.first == category) c = entry.second;
          }
          counts.push_back(c);
          kept += c;
        }
        counts.push_back(std::max(0.0, stats.training_rows - kept));  // other, rare and missing
        f.extra["reference"] = {{"proportions", Normalise(counts)}};
        break;
      }
      default: f.extra["reference"] = {{"proportions", Normalise(stats.slots[e.source])}};
    }
  }
}

json ScoreReference(const ScoreHistogram& h) {
  const double total = h.TotalPositives() + h.TotalNegatives();
  std::vector<double> edges;
  double seen = 0;
  int next_decile = 1;
  for (int b = 0; b < ScoreHistogram::kBins && next_decile <= 9; ++b) {
    seen += h.positives()[b] + h.negatives()[b];
    while (next_decile <= 9 && seen >= total * next_decile / 10.0) {
      double edge = Model::Sigmoid(ScoreHistogram::LowerEdge(b + 1));
      if (edges.empty() || edge > edges.back()) edges.push_back(edge);
      ++next_decile;
    }
  }
  std::vector<double> counts(edges.size() + 1, 0.0);
  for (int b = 0; b < ScoreHistogram::kBins; ++b) {
    const double lower = b == 0 ? 0.0 : Model::Sigmoid(ScoreHistogram::LowerEdge(b));  // the bin's lowest score
    counts[static_cast<size_t>(std::upper_bound(edges.begin(), edges.end(), lower) - edges.begin())] +=
        h.positives()[b] + h.negatives()[b];
  }
  return {{"edges", edges}, {"proportions", Normalise(counts)}};
}

size_t ReferenceBuckets(const Feature& f) {
  auto it = f.extra.find("reference");
  if (it == f.extra.end() || !it->is_object() || !it->contains("proportions")) return 0;
  return (*it)["proportions"].size();
}

size_t ReferenceBucket(const Feature& f, const FeatureValue& v) {
  const json& reference = f.extra.at("reference");
  const size_t last = reference.at("proportions").size() - 1;
  switch (f.kind) {
    case FeatureKind::kNumeric: {
      double x;
      if (!ReadNumber(f, v, &x)) return last;
      const std::vector<double> edges = reference.at("edges").get<std::vector<double>>();
      return static_cast<size_t>(std::upper_bound(edges.begin(), edges.end(), x) - edges.begin());
    }
    case FeatureKind::kBoolean: {
      bool b;
      if (!ReadBool(f, v, &b)) return last;
      return b ? 1 : 0;
    }
    case FeatureKind::kCategorical: {
      std::string buffer;
      std::string_view category;
      if (!ReadCategory(f, v, &buffer, &category)) return last;
      const long i = f.CategoryIndex(category);
      return i >= 0 ? static_cast<size_t>(i) : last;
    }
    default: {
      int slot = ReadSlot(f, v);
      return slot < 0 ? last : std::min(static_cast<size_t>(slot), last);
    }
  }
}

size_t ScoreBucket(const json& reference, double score) {
  const auto& edges = reference.at("edges");
  size_t b = 0;
  while (b < edges.size() && score >= edges[b].get<double>()) ++b;
  return b;
}

double PopulationStabilityIndex(const std::vector<double>& expected, const std::vector<double>& counts) {
  double total = 0;
  for (double c : counts) total += c;
  if (total == 0) return NAN;
  double psi = 0;
  for (size_t i = 0; i < expected.size() && i < counts.size(); ++i) {
    double e = std::max(expected[i], 1e-4), a = std::max(counts[i] / total, 1e-4);
    psi += (a - e) * std::log(a / e);
  }
  return psi;
}

const char* PsiBand(double psi) {
  if (std::isnan(psi)) return "no data";
  if (psi < 0.1) return "stable";
  if (psi <= 0.25) return "watch";
  return "shift";
}

}  // namespace pgfraud
