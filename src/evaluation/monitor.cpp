// Evaluation and drift from one pass of counts.
#include "evaluation/monitor.hpp"

#include <cmath>
#include <cstring>

#include "evaluation/reference.hpp"

namespace pgfraud {
namespace {

const nlohmann::json* ScoreReferenceOf(const Model& model) {
  auto it = model.extra.find("reference");
  if (it == model.extra.end() || !it->is_object() || !it->contains("score")) return nullptr;
  return &(*it)["score"];
}

}  // namespace

Monitor::Monitor(const Model& model) : buckets(model.features.size()), cut_logit(model.CutLogit()) {
  for (size_t i = 0; i < model.features.size(); ++i) buckets[i].assign(ReferenceBuckets(model.features[i]), 0.0);
  if (const nlohmann::json* ref = ScoreReferenceOf(model)) score_buckets.assign((*ref)["proportions"].size(), 0.0);
}

void Monitor::Add(const Model& model, const FeatureValue* values, std::optional<bool> label) {
  const double logit = model.Logit(values);
  rows += 1;
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (!buckets[i].empty()) buckets[i][ReferenceBucket(model.features[i], values[i])] += 1.0;
  }
  if (!score_buckets.empty()) {
    score_buckets[std::min(ScoreBucket(*ScoreReferenceOf(model), Model::Sigmoid(logit)), score_buckets.size() - 1)] +=
        1.0;
  }
  Count(logit, label);
}

void Monitor::AddUnlabelled(const Model& model, const FeatureValue* values) {
  null_labels += 1;
  Count(model.Logit(values), std::nullopt);
}

void Monitor::Count(double logit, std::optional<bool> label) {
  if (keep_logits) logits.push_back(logit);
  if (label) {
    histogram.Add(logit, *label);
    loss += Softplus(logit) - (*label ? logit : 0.0);
    confusion[(*label ? 0 : 1) + (logit >= cut_logit ? 0 : 2)] += 1.0;
  } else {
    if (unlabelled.empty()) unlabelled.assign(ScoreHistogram::kBins, 0.0);
    unlabelled[static_cast<size_t>(ScoreHistogram::Bin(logit))] += 1.0;
  }
}

ThresholdChoice Monitor::Threshold(const ThresholdStrategy& strategy) const {
  if (strategy.kind == ThresholdStrategy::Kind::kAlertRate && keep_logits)
    return AlertRateLogit(logits, strategy.target);
  return ChooseThreshold(histogram, strategy, unlabelled);
}

void Monitor::Merge(const Monitor& o) {
  if (buckets.empty() && score_buckets.empty() && rows == 0) {
    *this = o;
    return;
  }
  rows += o.rows;
  null_labels += o.null_labels;
  loss += o.loss;
  histogram.Merge(o.histogram);
  for (int c = 0; c < 4; ++c) confusion[c] += o.confusion[c];
  logits.insert(logits.end(), o.logits.begin(), o.logits.end());
  if (!o.unlabelled.empty()) {
    if (unlabelled.empty()) unlabelled.assign(ScoreHistogram::kBins, 0.0);
    for (size_t b = 0; b < unlabelled.size(); ++b) unlabelled[b] += o.unlabelled[b];
  }
  for (size_t i = 0; i < buckets.size() && i < o.buckets.size(); ++i) {
    for (size_t j = 0; j < buckets[i].size() && j < o.buckets[i].size(); ++j) buckets[i][j] += o.buckets[i][j];
  }
  for (size_t j = 0; j < score_buckets.size() && j < o.score_buckets.size(); ++j)
    score_buckets[j] += o.score_buckets[j];
}

std::vector<uint8_t> Monitor::Serialize() const {
  nlohmann::json sparse = nlohmann::json::array();
  for (size_t b = 0; b < unlabelled.size(); ++b) {
    if (unlabelled[b] != 0) sparse.push_back({b, unlabelled[b]});
  }
  nlohmann::json j = {{"rows", rows},
                      {"null_labels", null_labels},
                      {"loss", loss},
                      {"histogram", histogram.ToJson()},
                      {"unlabelled", sparse},
                      {"buckets", buckets},
                      {"score_buckets", score_buckets},
                      {"cut_logit", std::isfinite(cut_logit) ? nlohmann::json(cut_logit)
                                                             : nlohmann::json(cut_logit > 0 ? "inf" : "-inf")},
                      {"confusion", confusion},
                      {"keep_logits", keep_logits},
                      // the logits as bytes: CBOR would spend 9 a number and a JSON array far more
                      {"logits", nlohmann::json::binary(std::vector<uint8_t>(
                                     reinterpret_cast<const uint8_t*>(logits.data()),
                                     reinterpret_cast<const uint8_t*>(logits.data() + logits.size())))}};
  return nlohmann::json::to_cbor(j);
}

Monitor Monitor::Deserialize(const uint8_t* data, size_t size) {
  nlohmann::json j = nlohmann::json::from_cbor(data, data + size);
  Monitor m;
  m.rows = j.at("rows");
  m.null_labels = j.at("null_labels");
  m.loss = j.at("loss");
  m.histogram = ScoreHistogram::FromJson(j.at("histogram"));
  if (!j.at("unlabelled").empty()) m.unlabelled.assign(ScoreHistogram::kBins, 0.0);
  for (const auto& bin : j.at("unlabelled")) {
    const size_t b = bin[0].get<size_t>();
    if (b < m.unlabelled.size()) m.unlabelled[b] = bin[1].get<double>();
  }
  m.buckets = j.at("buckets").get<std::vector<std::vector<double>>>();
  m.score_buckets = j.at("score_buckets").get<std::vector<double>>();
  const nlohmann::json& cut = j.at("cut_logit");
  m.cut_logit = cut.is_number() ? cut.get<double>() : cut == "inf" ? INFINITY : -INFINITY;
  for (int c = 0; c < 4; ++c) m.confusion[c] = j.at("confusion")[c].get<double>();
  m.keep_logits = j.at("keep_logits").get<bool>();
  const std::vector<uint8_t>& bytes = j.at("logits").get_binary();
  m.logits.resize(bytes.size() / sizeof(double));
  if (!m.logits.empty()) memcpy(m.logits.data(), bytes.data(), m.logits.size() * sizeof(double));
  return m;
}

nlohmann::json Monitor::Evaluation(const Model& model) const {
  Metrics metrics = Evaluate(histogram, loss, ThresholdChoice::Of(model.threshold, model.CutLogit()));
  // The confusion matrix as counted row by row at the model's cut (the histogram's is exact
  // only when the cut is a bin edge).
  metrics.SetConfusion(confusion[0], confusion[1], confusion[3], confusion[2]);
  nlohmann::json out = metrics.ToJson();
  out["unlabelled_rows"] = static_cast<int64_t>(null_labels);
  const double P = histogram.TotalPositives(), N = histogram.TotalNegatives();
  nlohmann::json roc = nlohmann::json::array(), pr = nlohmann::json::array();
  if (P > 0 && N > 0) {
    double tp = 0, fp = 0, next = 0.01 * (P + N);
    roc.push_back({{"threshold", 1.0}, {"fpr", 0.0}, {"tpr", 0.0}});
    for (int b = ScoreHistogram::kBins - 1; b >= 0; --b) {
      tp += histogram.positives()[b];
      fp += histogram.negatives()[b];
      if (tp + fp >= next || b == 0) {
        const double threshold = b == 0 ? 0.0 : Model::Sigmoid(ScoreHistogram::LowerEdge(b));
        roc.push_back({{"threshold", threshold}, {"fpr", fp / N}, {"tpr", tp / P}});
        if (tp + fp > 0) pr.push_back({{"threshold", threshold}, {"recall", tp / P}, {"precision", tp / (tp + fp)}});
        while (next <= tp + fp) next += 0.01 * (P + N);
      }
    }
  }
  out["roc_curve"] = roc;
  out["pr_curve"] = pr;
  return out;
}

nlohmann::json Monitor::Drift(const Model& model) const {
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < model.features.size(); ++i) {
    const Feature& f = model.features[i];
    if (buckets[i].empty()) continue;
    std::vector<double> expected = f.extra["reference"]["proportions"].get<std::vector<double>>();
    double psi = PopulationStabilityIndex(expected, buckets[i]);
    std::string name = f.name;
    if (f.kind == FeatureKind::kHourOfDay || f.kind == FeatureKind::kDayOfWeek)
      name += std::string(" (") + FeatureKindName(f.kind) + ")";
    out.push_back({{"feature", name},
                   {"psi", std::isnan(psi) ? nlohmann::json(nullptr) : nlohmann::json(psi)},
                   {"band", PsiBand(psi)}});
  }
  if (const nlohmann::json* ref = ScoreReferenceOf(model)) {
    double psi = PopulationStabilityIndex((*ref)["proportions"].get<std::vector<double>>(), score_buckets);
    out.push_back({{"feature", "score"},
                   {"psi", std::isnan(psi) ? nlohmann::json(nullptr) : nlohmann::json(psi)},
                   {"band", PsiBand(psi)}});
  }
  return out;
}

}  // namespace pgfraud
