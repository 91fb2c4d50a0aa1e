// How a model of an algorithm other than logistic regression scores and explains a row, and
// how its document is read. Logistic regression keeps its coefficients in its features
// (Model::Logit adds them up); every other algorithm implements Algorithm in a folder of its
// own (src/trees/ for gradient-boosted trees) and registers its document format there with an
// AlgorithmRegistration. Scoring, explaining, the model cache and the document code call only
// these: a new algorithm touches its own folder.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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

// The document format of an algorithm other than logistic regression. Its document's
// features hold a name, a kind and a transform (model_document.cpp reads them); the rest is
// in the algorithm's section.
struct AlgorithmFormat {
  std::string name;  // the document's "algorithm"
  // The Algorithm of a document whose features `m` already holds (its history resolved);
  // throws Error(kInvalidModelDocument) on a bad section.
  std::function<std::shared_ptr<const Algorithm>(const nlohmann::json& doc, const Model& m)> read;
  // A document of another program the algorithm converts to pg_fraud's (XGBoost's JSON, say),
  // or nullopt when `doc` is not one; may be empty.
  std::function<std::optional<nlohmann::json>(const nlohmann::json& doc)> convert;
};

// Registers a format when the program starts: one object at namespace scope in the
// algorithm's folder.
struct AlgorithmRegistration {
  explicit AlgorithmRegistration(AlgorithmFormat format);
};

// The registered formats, in no particular order; nullptr when none has that name.
const std::vector<AlgorithmFormat>& AlgorithmFormats();
const AlgorithmFormat* FindAlgorithmFormat(const std::string& name);

}  // namespace pgfraud
