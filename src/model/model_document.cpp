// Validation and canonical serialisation of model documents; errors name the field, not values.
#include "model/model_document.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "common/errors.hpp"
#include "model/algorithm.hpp"

namespace pgfraud {
namespace {

using nlohmann::json;

[[noreturn]] void Invalid(const std::string& message, const std::string& detail = std::string()) {
  throw Error(ErrorCode::kInvalidModelDocument, "invalid model document: " + message, detail);
}

// A finite number at doc[key]; `fallback` when absent and allowed, an error otherwise.
double FiniteNumber(const json& obj, const char* key, const std::string& where, const double* fallback) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (fallback != nullptr) return *fallback;
    Invalid(where + " has no \"" + key + "\"");
  }
  if (!it->is_number()) Invalid(where + " \"" + key + "\" is not a number");
  double x = it->get<double>();
  if (!std::isfinite(x)) Invalid(where + " \"" + key + "\" is not finite");
  return x;
}

double Required(const json& obj, const char* key, const std::string& where) {
  return FiniteNumber(obj, key, where, nullptr);
}

double Optional(const json& obj, const char* key, const std::string& where, double fallback) {
  return FiniteNumber(obj, key, where, &fallback);
}

FeatureKind ParseKind(const json& f, const std::string& where) {
  auto it = f.find("kind");
  if (it == f.end() || !it->is_string()) Invalid(where + " has no \"kind\" string");
  const std::string& k = it->get_ref<const std::string&>();
  for (FeatureKind kind : {FeatureKind::kNumeric, FeatureKind::kCategorical, FeatureKind::kBoolean,
                           FeatureKind::kHourOfDay, FeatureKind::kDayOfWeek}) {
    if (k == FeatureKindName(kind)) return kind;
  }
  Invalid(where + " has an unknown kind",
          "Kinds are numeric, categorical, boolean, hour_of_day, day_of_week and history.");
}

// Reads "weights" of a categorical or time feature and derives slot weights for time kinds.
void ParseWeights(const json& f, const std::string& where, Feature* out) {
  auto it = f.find("weights");
  if (it == f.end()) Invalid(where + " has no \"weights\"");
  if (!it->is_object()) Invalid(where + " \"weights\" is not an object");
  out->default_weight = Optional(f, "default_weight", where, 0.0);
  for (auto w = it->begin(); w != it->end(); ++w) {
    if (!w.value().is_number() || !std::isfinite(w.value().get<double>())) {
      Invalid(where + " has a category weight that is not a finite number");
    }
    out->weights.emplace_back(w.key(), w.value().get<double>());
  }
  std::sort(out->weights.begin(), out->weights.end());
  if (out->kind == FeatureKind::kCategorical) return;
  const int slots = out->kind == FeatureKind::kHourOfDay ? 24 : 7;
  for (const auto& entry : out->weights) {
    const std::string& key = entry.first;
    int slot = -1;
    if (!key.empty() && key.size() <= 2 && std::all_of(key.begin(), key.end(), ::isdigit)) slot = std::stoi(key);
    if (slot < 0 || slot >= slots || std::to_string(slot) != key) {
      Invalid(where + " has a weight key outside 0.." + std::to_string(slots - 1));
    }
  }
}

// A feature's name and kind (a history feature: numeric, resolved against the declaration by
// ModelFromJson); *where becomes the feature's name for messages.
Feature FeatureHead(const json& f, size_t index, std::string* where) {
  *where = "feature " + std::to_string(index);
  if (!f.is_object()) Invalid(*where + " is not an object");
  auto name = f.find("name");
  if (name == f.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    Invalid(*where + " has no \"name\" string");
  }
  Feature out;
  out.name = name->get<std::string>();
  *where = "feature \"" + out.name + "\"";
  const bool history = f.contains("kind") && f["kind"] == "history";
  out.kind = history ? FeatureKind::kNumeric : ParseKind(f, *where);
  if (history) out.history = 0;
  return out;
}

// A feature of another algorithm's document (gradient_boosting): its name and kind (numeric,
// boolean, categorical, hour_of_day, day_of_week or history; "transform" for numbers); the
// algorithm's section holds the rest. An hour or weekday is read as its number (0-23, 0-6).
Feature ParseScoredFeature(const json& f, size_t index) {
  std::string where;
  Feature out = FeatureHead(f, index, &where);
  if (f.contains("transform")) {
    if (f["transform"] != "log1p" || out.kind != FeatureKind::kNumeric)
      Invalid(where + " \"transform\" must be \"log1p\", on a number");
    out.log1p = true;
  }
  for (auto it = f.begin(); it != f.end(); ++it) {
    if (it.key() != "name" && it.key() != "kind" && it.key() != "transform") out.extra[it.key()] = it.value();
  }
  return out;
}

Feature ParseFeature(const json& f, size_t index) {
  std::string where;
  Feature out = FeatureHead(f, index, &where);
  switch (out.kind) {
    case FeatureKind::kNumeric:
      out.weight = Required(f, "weight", where);
      out.mean = Optional(f, "mean", where, 0.0);
      out.scale = Optional(f, "scale", where, 1.0);
      if (!(out.scale > 0.0)) Invalid(where + " \"scale\" must be positive");
      if (f.contains("transform")) {
        if (f["transform"] != "log1p") Invalid(where + " \"transform\" must be \"log1p\"");
        out.log1p = true;
      }
      break;
    case FeatureKind::kBoolean:
      out.weight = Required(f, "weight", where);
      out.impute = Optional(f, "impute", where, 0.0);
      if (out.impute < 0.0 || out.impute > 1.0) Invalid(where + " \"impute\" must be between 0 and 1");
      break;
    default:
      ParseWeights(f, where, &out);
      if (f.contains("missing_weight")) {
        if (out.kind != FeatureKind::kCategorical) Invalid(where + " \"missing_weight\" is for categorical features");
        out.missing_weight = Required(f, "missing_weight", where);
      }
  }
  out.Prepare();
  static const std::set<std::string> kKnown = {"name",   "kind",    "mean",           "scale",     "weight",
                                               "impute", "weights", "default_weight", "transform", "missing_weight"};
  for (auto it = f.begin(); it != f.end(); ++it) {
    if (kKnown.count(it.key()) == 0) out.extra[it.key()] = it.value();
  }
  return out;
}

// Reads the "history" declaration and points each history feature at its derived feature.
void ResolveHistory(const json& doc, Model* m) {
  if (auto it = doc.find("history"); it != doc.end()) m->history = HistorySpec::FromDocument(*it);
  std::vector<HistoryFeatureInfo> derived;
  if (m->history) derived = m->history->Features();
  for (Feature& f : m->features) {
    if (f.history < 0) continue;
    if (!m->history)
      Invalid("feature \"" + f.name + "\" is a history feature but the document declares no \"history\"");
    f.history = -1;
    for (size_t i = 0; i < derived.size(); ++i) {
      if (derived[i].name == f.name) f.history = static_cast<int>(i);
    }
    if (f.history < 0) Invalid("history feature \"" + f.name + "\" is not derived by the document's \"history\"");
  }
}

// The document's algorithm into m; returns its format, or nullptr for logistic regression.
const AlgorithmFormat* ReadAlgorithm(const json& doc, Model* m) {
  auto algorithm = doc.find("algorithm");
  const AlgorithmFormat* format_of = nullptr;
  if (algorithm != doc.end() && algorithm->is_string() && *algorithm != "logistic_regression") {
    format_of = FindAlgorithmFormat(algorithm->get<std::string>());
  }
  if (algorithm == doc.end() || (*algorithm != "logistic_regression" && !format_of)) {
    std::string names = "\"logistic_regression\"";
    for (const AlgorithmFormat& f : AlgorithmFormats()) names += " or \"" + f.name + "\"";
    Invalid("\"algorithm\" must be " + names);
  }
  m->algorithm = algorithm->get<std::string>();
  return format_of;
}

// "threshold" and, when given, "threshold_logit" (which must say the same).
void ReadThreshold(const json& doc, Model* m) {
  m->threshold = Optional(doc, "threshold", "the document", 0.5);
  if (m->threshold < 0.0 || m->threshold > 1.0) Invalid("\"threshold\" must be between 0 and 1");
  if (!doc.contains("threshold_logit")) return;
  const double cut = Required(doc, "threshold_logit", "the document");
  // A stale cut must not silently override an edited threshold: both must say the same.
  const double p = Model::Sigmoid(cut);
  if (std::abs(p - m->threshold) > 1e-9 * std::min(m->threshold, 1.0 - m->threshold)) {
    Invalid("\"threshold_logit\" disagrees with \"threshold\"",
            "Remove \"threshold_logit\" after editing \"threshold\", or set it to ln(t / (1 - t)).");
  }
  m->threshold_logit = cut;
}

// The "features" array (a scorer's features when `format_of` is set).
void ReadFeatures(const json& doc, const AlgorithmFormat* format_of, Model* m) {
  auto features = doc.find("features");
  if (features == doc.end() || !features->is_array()) Invalid("\"features\" is not an array");
  std::set<std::pair<std::string, FeatureKind>> seen;
  for (size_t i = 0; i < features->size(); ++i) {
    Feature f = format_of ? ParseScoredFeature((*features)[i], i) : ParseFeature((*features)[i], i);
    // A column may feed both hour_of_day and day_of_week, but no feature may appear twice.
    if (!seen.emplace(f.name, f.kind).second) Invalid("feature \"" + f.name + "\" appears twice");
    m->features.push_back(std::move(f));
  }
}

// The optional keys: missing_values, time_zone, label, metrics, training; unknown keys are
// kept as they are (m->extra).
void ReadOptionalKeys(const json& doc, Model* m) {
  if (auto mv = doc.find("missing_values"); mv != doc.end()) {
    if (!mv->is_array() || mv->size() > 100) Invalid("\"missing_values\" must be an array of at most 100 texts");
    std::vector<std::string> texts;
    for (const json& t : *mv) {
      if (!t.is_string() || t.get<std::string>().size() > 100)
        Invalid("\"missing_values\" holds texts of at most 100 bytes");
      texts.push_back(t.get<std::string>());
    }
    m->SetMissingValues(texts);
  }
  if (auto zone = doc.find("time_zone"); zone != doc.end()) {
    if (!zone->is_string() || zone->get<std::string>().empty()) Invalid("\"time_zone\" is not a time zone name");
    m->time_zone = zone->get<std::string>();
  }
  if (auto label = doc.find("label"); label != doc.end()) {
    if (!label->is_string()) Invalid("\"label\" is not a string");
    m->label = label->get<std::string>();
  }
  for (const char* key : {"metrics", "training"}) {
    auto it = doc.find(key);
    if (it == doc.end()) continue;
    if (!it->is_object()) Invalid(std::string("\"") + key + "\" is not an object");
    (key == std::string("metrics") ? m->metrics : m->training) = *it;
  }
  static const std::set<std::string> kKnown = {
      "format",  "algorithm", "intercept", "threshold", "threshold_logit", "features", "label",
      "metrics", "training",  "history",   "time_zone", "missing_values",  "trees"};
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (kKnown.count(it.key()) == 0) m->extra[it.key()] = it.value();
  }
}

}  // namespace

Model ModelFromJson(const json& doc) {
  if (!doc.is_object()) Invalid("not a JSON object");
  for (const AlgorithmFormat& f : AlgorithmFormats()) {
    if (!f.convert) continue;
    if (std::optional<json> converted = f.convert(doc)) return ModelFromJson(*converted);
  }
  auto format = doc.find("format");
  if (format == doc.end() || !format->is_string())
    Invalid("no \"format\" string", "Expected \"format\": \"pg_fraud.model/1\".");
  if (*format != kModelFormat) Invalid("unknown format", "This version of pg_fraud reads \"pg_fraud.model/1\".");
  Model m;
  const AlgorithmFormat* format_of = ReadAlgorithm(doc, &m);
  if (!format_of) m.intercept = Required(doc, "intercept", "the document");
  ReadThreshold(doc, &m);
  ReadFeatures(doc, format_of, &m);
  ResolveHistory(doc, &m);
  if (format_of) {
    m.scorer = format_of->read(doc, m);
    m.intercept = m.scorer->BaseLogit();
  }
  ReadOptionalKeys(doc, &m);
  return m;
}

Model ParseModelDocument(std::string_view text) {
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::out_of_range&) {
    // nlohmann's message quotes the number; the document's values stay out of errors.
    Invalid("a number is beyond double precision");
  } catch (const json::exception&) {
    Invalid("not valid JSON");
  }
  return ModelFromJson(doc);
}

json ModelToJson(const Model& m) {
  json doc = m.extra;
  doc["format"] = kModelFormat;
  doc["algorithm"] = m.algorithm;
  doc["intercept"] = m.intercept;  // trees: the expected margin, derived (read back, it is recomputed)
  if (m.scorer) doc[m.scorer->DocumentKey()] = m.scorer->ToJson();
  doc["threshold"] = m.threshold;
  if (m.threshold_logit) doc["threshold_logit"] = *m.threshold_logit;
  if (!m.label.empty()) doc["label"] = m.label;
  if (!m.metrics.empty()) doc["metrics"] = m.metrics;
  if (!m.training.empty()) doc["training"] = m.training;
  if (m.history) doc["history"] = m.history->ToJson();
  if (!m.time_zone.empty()) doc["time_zone"] = m.time_zone;
  if (!m.missing_values.empty()) doc["missing_values"] = m.missing_values;
  json features = json::array();
  for (const Feature& f : m.features) {
    json out = f.extra;
    out["name"] = f.name;
    out["kind"] = f.history >= 0 ? "history" : FeatureKindName(f.kind);
    if (m.scorer) {  // the algorithm's section holds the parameters
      if (f.log1p) out["transform"] = "log1p";
      features.push_back(std::move(out));
      continue;
    }
    switch (f.kind) {
      case FeatureKind::kNumeric:
        out["mean"] = f.mean;
        out["scale"] = f.scale;
        out["weight"] = f.weight;
        if (f.log1p) out["transform"] = "log1p";
        break;
      case FeatureKind::kBoolean:
        out["weight"] = f.weight;
        out["impute"] = f.impute;
        break;
      default:
        out["weights"] = json::object();
        for (const auto& [key, weight] : f.weights) out["weights"][key] = weight;
        out["default_weight"] = f.default_weight;
        if (f.missing_weight) out["missing_weight"] = *f.missing_weight;
    }
    features.push_back(std::move(out));
  }
  doc["features"] = std::move(features);
  return doc;
}

}  // namespace pgfraud
