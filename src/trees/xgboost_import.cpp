// Conversion of XGBoost's JSON model format to a "gradient_boosting" document (see the header).
#include "trees/xgboost_import.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "common/value_parsing.hpp"

namespace pgfraud {
namespace {

using nlohmann::json;

[[noreturn]] void Invalid(const std::string& message, const std::string& detail = std::string()) {
  throw Error(ErrorCode::kInvalidModelDocument, "invalid XGBoost model: " + message, detail);
}

const json& At(const json& j, const char* key, const char* what) {
  auto it = j.find(key);
  if (!j.is_object() || it == j.end()) Invalid(std::string("no \"") + key + "\" in " + what);
  return *it;
}

// A number XGBoost writes as text ("5E-1") or as a number.
double NumberOrText(const json& v, const char* what) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    try {
      return ParseNumber(v.get_ref<const std::string&>(), what);
    } catch (const Error&) {
    }
  }
  Invalid(std::string(what) + " is not a number");
}

// One input of the mapping: the transaction key, its kind and, for a one-hot column, the category.
struct Input {
  std::string name;
  std::string kind = "numeric";
  std::optional<std::string> equals;
  nlohmann::json if_missing;  // passed through to the document's input
};

std::vector<Input> InputsFromWrapper(const json& inputs, size_t features) {
  if (!inputs.is_array() || inputs.size() != features) {
    Invalid("\"inputs\" must list one input per XGBoost feature (" + std::to_string(features) + ")");
  }
  std::vector<Input> out;
  for (const json& in : inputs) {
    if (!in.is_object() || !in.contains("name") || !in["name"].is_string() || in["name"].get<std::string>().empty()) {
      Invalid("each input needs a \"name\": the transaction key it reads");
    }
    Input i;
    i.name = in["name"].get<std::string>();
    if (in.contains("equals")) {
      if (!in["equals"].is_string()) Invalid("an input's \"equals\" must be the category text");
      i.equals = in["equals"].get<std::string>();
      i.kind = "categorical";
      if (in.contains("if_missing")) i.if_missing = in["if_missing"];
    } else if (in.contains("kind")) {
      if (in["kind"] != "numeric" && in["kind"] != "boolean" && in["kind"] != "history") {
        Invalid("an input's \"kind\" must be \"numeric\", \"boolean\" or \"history\"");
      }
      i.kind = in["kind"].get<std::string>();
    }
    out.push_back(std::move(i));
  }
  return out;
}

std::vector<Input> InputsFromBooster(const json& learner, size_t features) {
  const json names = learner.value("feature_names", json::array());
  const json types = learner.value("feature_types", json::array());
  if (!names.is_array() || names.size() != features) {
    Invalid(
        "the model does not name its features",
        "Train it from a pandas DataFrame, or wrap it: {\"xgboost\": <model>, \"inputs\": [{\"name\": ...}, ...]}.");
  }
  std::vector<Input> out;
  for (size_t i = 0; i < features; ++i) {
    Input in;
    in.name = names[i].get<std::string>();
    const std::string type = i < types.size() && types[i].is_string() ? types[i].get<std::string>() : "float";
    if (type == "c")
      Invalid("categorical splits are not supported", "One-hot encode the column and map each column with \"equals\".");
    if (type == "i") in.kind = "boolean";
    out.push_back(std::move(in));
  }
  return out;
}

json Tree(const json& t) {
  const json& left = At(t, "left_children", "a tree");
  const json& right = At(t, "right_children", "a tree");
  const json& split = At(t, "split_indices", "a tree");
  const json& cond = At(t, "split_conditions", "a tree");
  const json& dl = At(t, "default_left", "a tree");
  const json& hess = At(t, "sum_hessian", "a tree");
  if (auto types = t.find("split_type"); types != t.end() && types->is_array()) {
    for (const json& s : *types) {
      if (s != 0)
        Invalid("categorical splits are not supported",
                "One-hot encode the column and map each column with \"equals\".");
    }
  }
  json out = {{"left", left}, {"right", right}, {"input", split}, {"default_left", dl}, {"cover", hess}};
  // XGBoost keeps a leaf's value in split_conditions; a split's threshold there too.
  json threshold = json::array(), value = json::array();
  for (size_t i = 0; i < cond.size() && i < left.size(); ++i) {
    const bool leaf = left[i].get<int64_t>() < 0;
    threshold.push_back(leaf ? json(0.0) : cond[i]);
    value.push_back(leaf ? cond[i] : json(0.0));
  }
  out["threshold"] = threshold;
  out["value"] = value;
  for (size_t i = 0; i < left.size(); ++i) {  // a leaf's split index is meaningless
    if (left[i].get<int64_t>() < 0) out["input"][i] = 0;
  }
  return out;
}

}  // namespace

json XGBoostTrees(const json& booster) {
  const json& learner = At(booster, "learner", "the model");
  const std::string objective = At(At(learner, "objective", "the learner"), "name", "the objective").get<std::string>();
  if (objective != "binary:logistic" && objective != "reg:logistic") {
    Invalid("the objective must be binary:logistic",
            "pg_fraud scores the probability of fraud; this model's objective differs.");
  }
  const json& gb = At(learner, "gradient_booster", "the learner");
  if (gb.value("name", "") != "gbtree") Invalid("only gbtree boosters are supported (not dart or gblinear)");
  const json& params = At(learner, "learner_model_param", "the learner");
  const double base_score = NumberOrText(At(params, "base_score", "the model parameters"), "base_score");
  if (!(base_score > 0 && base_score < 1)) Invalid("base_score must be a probability strictly between 0 and 1");
  if (NumberOrText(params.value("num_class", json("0")), "num_class") > 1)
    Invalid("multi-class models are not supported");
  json trees = json::array();
  const json& model = At(gb, "model", "the booster");
  for (const json& t : At(model, "trees", "the booster's model")) trees.push_back(Tree(t));
  return {{"base_margin", std::log(base_score / (1.0 - base_score))}, {"trees", trees}};
}

std::optional<json> XGBoostToDocument(const json& doc) {
  if (!doc.is_object() || (!doc.contains("learner") && !doc.contains("xgboost"))) return std::nullopt;
  const bool wrapped = doc.contains("xgboost");
  const json& booster = wrapped ? doc["xgboost"] : doc;
  json trees = XGBoostTrees(booster);
  const json& learner = booster["learner"];
  const std::string objective = learner["objective"]["name"].get<std::string>();
  const size_t features = static_cast<size_t>(
      NumberOrText(At(learner["learner_model_param"], "num_feature", "the model parameters"), "num_feature"));
  const std::vector<Input> inputs =
      wrapped ? InputsFromWrapper(At(doc, "inputs", "the wrapper"), features) : InputsFromBooster(learner, features);
  // The document's features: each transaction key once, in the order the inputs first name it.
  json feats = json::array(), ins = json::array();
  std::vector<std::string> names;
  for (const Input& in : inputs) {
    size_t index = 0;
    while (index < names.size() && names[index] != in.name) ++index;
    if (index == names.size()) {
      names.push_back(in.name);
      feats.push_back({{"name", in.name}, {"kind", in.kind}});
    } else if (feats[index]["kind"] != in.kind) {
      Invalid("key \"" + in.name + "\" is mapped to inputs of different kinds");
    }
    json one = {{"feature", index}};
    if (in.equals) one["equals"] = *in.equals;
    if (!in.if_missing.is_null()) one["if_missing"] = in.if_missing;
    ins.push_back(one);
  }
  trees["inputs"] = ins;
  const size_t count = trees["trees"].size();
  json out = {{"format", "pg_fraud.model/1"},
              {"algorithm", "gradient_boosting"},
              {"threshold", wrapped ? doc.value("threshold", 0.5) : 0.5},
              {"features", feats},
              {"trees", trees},
              {"training", {{"imported_from", "xgboost"}, {"objective", objective}, {"trees", count}}}};
  if (booster.contains("version")) out["training"]["xgboost_version"] = booster["version"];
  if (wrapped && doc.contains("label")) out["label"] = doc["label"];
  // History features as inputs ("kind": "history", named as pg_fraud names them): the
  // wrapper's declaration says how they are computed, as in any document.
  if (wrapped && doc.contains("history")) out["history"] = doc["history"];
  return out;
}

}  // namespace pgfraud
