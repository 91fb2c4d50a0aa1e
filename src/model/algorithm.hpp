// How a model of an algorithm other than logistic regression scores and explains a row.
// Logistic regression keeps its coefficients in its features (Model::Logit adds them up);
// every other algorithm implements this interface in a folder of its own (src/trees/ for
// gradient-boosted trees). Scoring, explaining and the model cache call only these; the
// document code reads the algorithm's section and writes it back through ToJson.
#pragma once

#include <nlohmann/json.hpp>

namespace pgfraud {

struct Model;
struct FeatureValue;

class Algorithm {
 public:
  virtual ~Algorithm() = default;
  // The log-odds of fraud of a row (values aligned with the model's features).
  virtual double Logit(const Model& model, const FeatureValue* values) const = 0;
  // Each feature's share of the logit (out: one per feature, zeroed by the caller); with
  // BaseLogit() they add up to Logit.
  virtual void Contributions(const Model& model, const FeatureValue* values, double* out) const = 0;
  // The logit a row starts from before any feature: the document's "intercept".
  virtual double BaseLogit() const = 0;
  // The algorithm's section of the document: its key and its value.
  virtual const char* DocumentKey() const = 0;
  virtual nlohmann::json ToJson() const = 0;
};

}  // namespace pgfraud
