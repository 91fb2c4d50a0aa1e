// Validation of train_fraud_model options: every bad option is named, none is ignored.
#include "training/training_options.hpp"

#include <cmath>
#include <set>

#include "common/errors.hpp"

namespace pgfraud {
namespace {

using nlohmann::json;

[[noreturn]] void Bad(const std::string& message, const std::string& detail = std::string()) {
  throw Error(ErrorCode::kInvalidParameterValue, "invalid training option: " + message, detail);
}

double Number(const json& value, const std::string& name, double low, double high) {
  if (!value.is_number()) Bad("\"" + name + "\" must be a number");
  double x = value.get<double>();
  if (!std::isfinite(x) || x < low || x > high) {
    Bad("\"" + name + "\" is out of range",
        "It must be between " + std::to_string(low) + " and " + std::to_string(high) + ".");
  }
  return x;
}

std::vector<std::string> Names(const json& value, const std::string& name) {
  if (!value.is_array()) Bad("\"" + name + "\" must be an array of column names");
  std::vector<std::string> out;
  for (const json& item : value) {
    if (!item.is_string() || item.get_ref<const std::string&>().empty()) {
      Bad("\"" + name + "\" must hold non-empty strings");
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

ThresholdStrategy ParseThreshold(const json& value) {
  ThresholdStrategy s;
  if (value.is_number()) {
    s.kind = ThresholdStrategy::Kind::kFixed;
    s.target = Number(value, "threshold", 0.0, 1.0);
    return s;
  }
  if (!value.is_object() || !value.contains("strategy") || !value["strategy"].is_string()) {
    Bad("\"threshold\" must be a number or an object with a \"strategy\"",
        "Strategies: f1, precision, recall, alert_rate; the last three take a \"target\".");
  }
  const std::string& name = value["strategy"].get_ref<const std::string&>();
  if (name == "f1") return s;
  if (name == "precision")
    s.kind = ThresholdStrategy::Kind::kPrecision;
  else if (name == "recall")
    s.kind = ThresholdStrategy::Kind::kRecall;
  else if (name == "alert_rate")
    s.kind = ThresholdStrategy::Kind::kAlertRate;
  else
    Bad("unknown threshold strategy", "Strategies: f1, precision, recall, alert_rate.");
  if (!value.contains("target")) Bad("threshold strategy \"" + name + "\" needs a \"target\"");
  s.target = Number(value["target"], "target", 0.0, 1.0);
  return s;
}

// "algorithm" and the options of trees; each option belongs to one algorithm.
void ParseBoosting(const json& options, TrainingOptions* o) {
  if (options.contains("algorithm")) {
    const json& a = options["algorithm"];
    if (a != "logistic_regression" && a != "gradient_boosting")
      Bad("\"algorithm\" must be \"logistic_regression\" or \"gradient_boosting\"");
    o->boosting = a == "gradient_boosting";
  }
  static const std::vector<const char*> kLinear = {"l2", "max_iter", "tol", "warm_start_rows", "in_memory"};
  static const std::vector<const char*> kTrees = {"trees",     "max_depth",        "learning_rate", "min_child_weight",
                                                  "subsample", "colsample_bytree", "reg_lambda",    "reg_alpha",
                                                  "gamma",     "max_bin",          "threads"};
  for (const char* name : o->boosting ? kLinear : kTrees) {
    if (!options.contains(name)) continue;
    if (o->boosting) Bad(std::string("\"") + name + "\" is an option of logistic regression, not of gradient_boosting");
    Bad(std::string("\"") + name + "\" is an option of gradient_boosting",
        "Give \"algorithm\": \"gradient_boosting\" to train boosted trees.");
  }
  if (!o->boosting) return;
  BoostingOptions& b = o->boosting_options;
  auto integer = [&](const char* name, int low, int high, int* out) {
    if (!options.contains(name)) return;
    const double x = Number(options[name], name, low, high);
    if (x != std::floor(x)) Bad(std::string("\"") + name + "\" must be a whole number");
    *out = static_cast<int>(x);
  };
  auto real = [&](const char* name, double low, double high, double* out) {
    if (options.contains(name)) *out = Number(options[name], name, low, high);
  };
  integer("trees", 1, 10000, &b.trees);
  integer("max_depth", 1, 16, &b.max_depth);  // within the 64 levels a document may have
  integer("max_bin", 2, 4096, &b.max_bin);
  integer("threads", 1, 256, &b.threads);
  real("learning_rate", 1e-6, 1.0, &b.learning_rate);
  real("min_child_weight", 0.0, 1e12, &b.min_child_weight);
  real("subsample", 1e-6, 1.0, &b.subsample);
  real("colsample_bytree", 1e-6, 1.0, &b.colsample_bytree);
  real("reg_lambda", 0.0, 1e12, &b.reg_lambda);
  real("reg_alpha", 0.0, 1e12, &b.reg_alpha);
  real("gamma", 0.0, 1e12, &b.gamma);
}

// Fails on an option name training does not know.
void CheckOptionNames(const json& options) {
  static const std::set<std::string> kKnown = {"features",
                                               "exclude",
                                               "l2",
                                               "class_weight",
                                               "max_iter",
                                               "tol",
                                               "holdout",
                                               "seed",
                                               "threshold",
                                               "activate",
                                               "max_categories",
                                               "warm_start_rows",
                                               "in_memory",
                                               "history",
                                               "holdout_by",
                                               "time_zone",
                                               "holdout_column",
                                               "log1p",
                                               "missing_values",
                                               "algorithm",
                                               "trees",
                                               "max_depth",
                                               "learning_rate",
                                               "min_child_weight",
                                               "subsample",
                                               "colsample_bytree",
                                               "reg_lambda",
                                               "reg_alpha",
                                               "gamma",
                                               "max_bin",
                                               "threads"};
  for (auto it = options.begin(); it != options.end(); ++it) {
    if (kKnown.count(it.key()) == 0) {
      Bad("unknown option \"" + it.key() + "\"",
          "Options: features, exclude, l2, class_weight, max_iter, tol, holdout, seed, threshold, "
          "activate, max_categories, warm_start_rows, in_memory, history, holdout_by, time_zone, holdout_column, "
          "log1p, missing_values, algorithm; for gradient_boosting: trees, max_depth, learning_rate, "
          "min_child_weight, subsample, colsample_bytree, reg_lambda, reg_alpha, gamma, max_bin, threads.");
    }
  }
}

// The options naming columns: features, exclude, log1p, missing_values.
void ParseColumnOptions(const json& options, TrainingOptions* o) {
  if (options.contains("features")) o->features = Names(options["features"], "features");
  if (options.contains("exclude")) o->exclude = Names(options["exclude"], "exclude");
  if (options.contains("log1p")) o->log1p = Names(options["log1p"], "log1p");
  if (options.contains("missing_values")) {
    const json& mv = options["missing_values"];
    if (!mv.is_array() || mv.size() > 100) Bad("\"missing_values\" must be an array of at most 100 texts");
    for (const json& t : mv) {
      if (!t.is_string() || t.get<std::string>().size() > 100)
        Bad("\"missing_values\" holds texts of at most 100 bytes");
      o->missing_values.push_back(t.get<std::string>());
    }
  }
  if (options.contains("max_categories")) {
    o->max_categories = static_cast<int>(Number(options["max_categories"], "max_categories", 1, 10000));
  }
}

// The logistic regression's options: l2, class_weight, max_iter, tol, warm_start_rows.
void ParseLinear(const json& options, TrainingOptions* o) {
  if (options.contains("l2")) o->l2 = Number(options["l2"], "l2", 0.0, 1e12);
  if (options.contains("class_weight")) {
    const json& cw = options["class_weight"];
    if (cw == "balanced")
      o->balanced = true;
    else if (!cw.is_null() && cw != "none")
      Bad("\"class_weight\" must be \"balanced\" or null");
  }
  if (options.contains("max_iter")) o->max_iter = static_cast<int>(Number(options["max_iter"], "max_iter", 1, 1000));
  if (options.contains("tol")) o->tol = Number(options["tol"], "tol", 0.0, 1.0);
  if (options.contains("warm_start_rows")) {
    o->warm_start_rows = static_cast<int>(Number(options["warm_start_rows"], "warm_start_rows", 0, 1000000));
  }
}

// A boolean option into *out.
void ParseFlag(const json& options, const char* name, bool* out) {
  if (!options.contains(name)) return;
  if (!options[name].is_boolean()) Bad("\"" + std::string(name) + "\" must be true or false");
  *out = options[name].get<bool>();
}

// Which rows are held out: holdout, seed, holdout_by (by time by default with history),
// holdout_column. Reads the history declaration first (it decides the default).
void ParseHoldout(const json& options, TrainingOptions* o) {
  if (options.contains("holdout")) o->holdout = Number(options["holdout"], "holdout", 0.0, 0.9);
  if (options.contains("seed")) o->seed = static_cast<uint64_t>(Number(options["seed"], "seed", 0, 9.0e15));
  if (options.contains("history")) o->history = options["history"];
  o->holdout_by_time = !o->history.is_null();
  if (options.contains("holdout_by")) {
    const auto& by = options["holdout_by"];
    if (!by.is_string() || (by != "time" && by != "random")) Bad("\"holdout_by\" must be \"time\" or \"random\"");
    if (by == "time" && o->history.is_null()) Bad("\"holdout_by\": \"time\" needs a \"history\" declaration");
    o->holdout_by_time = by == "time";
  }
  if (options.contains("holdout_column")) {
    const auto& column = options["holdout_column"];
    if (!column.is_string() || column.get<std::string>().empty()) Bad("\"holdout_column\" must be a column name");
    if (options.contains("holdout") || options.contains("holdout_by")) {
      Bad("\"holdout_column\" cannot be combined with \"holdout\" or \"holdout_by\"",
          "The column says which rows are held out.");
    }
    o->holdout_column = column.get<std::string>();
    o->holdout_by_time = false;
  }
}

}  // namespace

TrainingOptions ParseTrainingOptions(const json& options) {
  if (!options.is_object()) Bad("options must be a JSON object");
  CheckOptionNames(options);
  TrainingOptions o;
  o.given = options;
  ParseBoosting(options, &o);
  ParseColumnOptions(options, &o);
  ParseLinear(options, &o);
  if (options.contains("threshold")) o.threshold = ParseThreshold(options["threshold"]);
  ParseFlag(options, "activate", &o.activate);
  ParseFlag(options, "in_memory", &o.in_memory);
  ParseHoldout(options, &o);
  if (options.contains("time_zone")) {
    const auto& zone = options["time_zone"];
    if (!zone.is_string() || zone.get<std::string>().empty()) Bad("\"time_zone\" must be a time zone name");
    o.time_zone = zone.get<std::string>();
  }
  return o;
}

json ThresholdStrategyJson(const ThresholdStrategy& s) {
  switch (s.kind) {
    case ThresholdStrategy::Kind::kF1: return {{"strategy", "f1"}};
    case ThresholdStrategy::Kind::kPrecision: return {{"strategy", "precision"}, {"target", s.target}};
    case ThresholdStrategy::Kind::kRecall: return {{"strategy", "recall"}, {"target", s.target}};
    case ThresholdStrategy::Kind::kAlertRate: return {{"strategy", "alert_rate"}, {"target", s.target}};
    case ThresholdStrategy::Kind::kFixed: return {{"strategy", "fixed"}, {"target", s.target}};
  }
  return json::object();
}

}  // namespace pgfraud
