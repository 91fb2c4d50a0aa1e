// Unit tests of model documents and scoring, against values computed by hand from the formula.
#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "common/errors.hpp"
#include "model/model_document.hpp"

namespace pgfraud {
namespace {

using nlohmann::json;

json SampleDocument() {
  return json::parse(R"({
    "format": "pg_fraud.model/1", "algorithm": "logistic_regression",
    "intercept": -3.2, "threshold": 0.41, "label": "is_fraud",
    "features": [
      {"name": "amount", "kind": "numeric", "mean": 120.5, "scale": 300.2, "weight": 0.8},
      {"name": "country", "kind": "categorical", "weights": {"US": 0.1, "NG": 1.2}, "default_weight": -0.05},
      {"name": "online", "kind": "boolean", "weight": 0.3, "impute": 0.25},
      {"name": "created_at", "kind": "hour_of_day", "weights": {"2": 0.9, "3": 1.1}, "default_weight": 0.0},
      {"name": "created_at", "kind": "day_of_week", "weights": {"0": 0.2}, "default_weight": -0.1}
    ],
    "metrics": {"roc_auc": 0.9}, "custom": [1, 2]})");
}

ErrorCode DocumentError(const json& doc, std::string* message = nullptr) {
  try {
    ModelFromJson(doc);
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return ErrorCode::kInternal;
}

TEST(Feature, CategoryPaddingIsReadWithoutTrailingBlanks) {
  Feature f;
  f.kind = FeatureKind::kCategorical;
  f.weights = {{"NG", 1.4}, {"US ", 0.5}, {"US", -0.2}};
  std::sort(f.weights.begin(), f.weights.end());
  f.default_weight = 0.1;
  EXPECT_DOUBLE_EQ(f.CategoryWeight("NG"), 1.4);
  EXPECT_DOUBLE_EQ(f.CategoryWeight("NG "), 1.4);  // char(3) as to_jsonb writes it
  EXPECT_DOUBLE_EQ(f.CategoryWeight("NG   "), 1.4);
  EXPECT_DOUBLE_EQ(f.CategoryWeight("US "), 0.5);  // a known category with blanks stays itself
  EXPECT_DOUBLE_EQ(f.CategoryWeight("US"), -0.2);
  EXPECT_DOUBLE_EQ(f.CategoryWeight(" NG"), 0.1);  // leading blanks are significant
  EXPECT_DOUBLE_EQ(f.CategoryWeight("FR "), 0.1);
  EXPECT_DOUBLE_EQ(f.CategoryWeight("   "), 0.1);
}

TEST(ModelDocument, RoundTripIsIdentical) {
  json once = ModelToJson(ModelFromJson(SampleDocument()));
  json twice = ModelToJson(ModelFromJson(once));
  EXPECT_EQ(once, twice);
  EXPECT_EQ(once["custom"], json::parse("[1, 2]"));
  EXPECT_EQ(once["metrics"]["roc_auc"], 0.9);
}

TEST(ModelDocument, ScoreFollowsTheFormula) {
  Model m = ModelFromJson(SampleDocument());
  FeatureValue v[] = {FeatureValue::Number(420.7), FeatureValue::Text("NG"), FeatureValue::Bool(true),
                      FeatureValue::Text("2024-05-05T03:10:00"), FeatureValue::Text("2024-05-05T03:10:00")};
  double z = -3.2 + 0.8 * (420.7 - 120.5) / 300.2 + 1.2 + 0.3 + 1.1 + 0.2;
  EXPECT_NEAR(m.Logit(v), z, 1e-12);
  EXPECT_NEAR(m.Score(v), 1.0 / (1.0 + std::exp(-z)), 1e-12);
}

TEST(ModelDocument, MissingAndUnknownValues) {
  Model m = ModelFromJson(SampleDocument());
  FeatureValue v[] = {FeatureValue::Missing(), FeatureValue::Text("FR"), FeatureValue::Missing(),
                      FeatureValue::Missing(), FeatureValue::Number(1)};
  double z = -3.2 + 0.0 + -0.05 + 0.3 * 0.25 + 0.0 + -0.1;
  EXPECT_NEAR(m.Logit(v), z, 1e-12);
  std::vector<double> c = m.Contributions(v);
  EXPECT_NEAR(c[2], 0.075, 1e-12);
}

TEST(ModelDocument, NumericStringsAreNumbers) {
  Model m = ModelFromJson(SampleDocument());
  FeatureValue a[] = {FeatureValue::Text("12.50"), FeatureValue::Missing(), FeatureValue::Missing(),
                      FeatureValue::Missing(), FeatureValue::Missing()};
  FeatureValue b[] = {FeatureValue::Number(12.5), FeatureValue::Missing(), FeatureValue::Missing(),
                      FeatureValue::Missing(), FeatureValue::Missing()};
  EXPECT_EQ(m.Logit(a), m.Logit(b));
}

TEST(ModelDocument, WrongValueKindsAreErrors) {
  Model m = ModelFromJson(SampleDocument());
  FeatureValue v[] = {FeatureValue::Other("an object"), FeatureValue::Missing(), FeatureValue::Missing(),
                      FeatureValue::Missing(), FeatureValue::Missing()};
  try {
    m.Logit(v);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidParameterValue);
    EXPECT_NE(std::string(e.what()).find("amount"), std::string::npos);
  }
  v[0] = FeatureValue::Number(NAN);
  EXPECT_THROW(m.Logit(v), Error);
  v[0] = FeatureValue::Missing();
  v[2] = FeatureValue::Number(2);
  EXPECT_THROW(m.Logit(v), Error);
  v[2] = FeatureValue::Missing();
  v[3] = FeatureValue::Number(24);
  EXPECT_THROW(m.Logit(v), Error);
}

TEST(ModelDocument, MalformedDocumentsAreRefused) {
  json doc = SampleDocument();
  std::string message;
  for (const char* key : {"format", "algorithm", "intercept", "features"}) {
    json d = doc;
    d.erase(key);
    EXPECT_EQ(DocumentError(d), ErrorCode::kInvalidModelDocument) << key;
  }
  json d = doc;
  d["format"] = "pg_fraud.model/9";
  EXPECT_EQ(DocumentError(d), ErrorCode::kInvalidModelDocument);
  d = doc;
  d["intercept"] = "1";
  EXPECT_EQ(DocumentError(d), ErrorCode::kInvalidModelDocument);
  d = doc;
  d["features"][0]["weight"] = std::numeric_limits<double>::infinity();
  EXPECT_EQ(DocumentError(d, &message), ErrorCode::kInvalidModelDocument);
  EXPECT_NE(message.find("amount"), std::string::npos);
  d = doc;
  d["features"][0]["scale"] = 0;
  EXPECT_EQ(DocumentError(d), ErrorCode::kInvalidModelDocument);
  d = doc;
  d["features"].push_back(doc["features"][0]);
  EXPECT_EQ(DocumentError(d, &message), ErrorCode::kInvalidModelDocument);
  EXPECT_NE(message.find("twice"), std::string::npos);
  d = doc;
  d["features"][3]["weights"]["24"] = 1.0;
  EXPECT_EQ(DocumentError(d), ErrorCode::kInvalidModelDocument);
  d = doc;
  d["features"][1]["kind"] = "fancy";
  EXPECT_EQ(DocumentError(d), ErrorCode::kInvalidModelDocument);
  EXPECT_EQ(DocumentError(json::array()), ErrorCode::kInvalidModelDocument);
  EXPECT_THROW(ParseModelDocument("{not json"), Error);
}

// A document with history features: the declaration and each derived feature survive a round
// trip; history features score as numeric ones; features the declaration does not derive fail.
TEST(ModelDocument, HistoryFeaturesRoundTrip) {
  const char* text = R"doc({"format": "pg_fraud.model/1", "algorithm": "logistic_regression", "intercept": -1.0,
    "history": {"by": ["acct"], "time": "t", "windows": [{"label": "1 hour", "seconds": 3600}],
                "amounts": ["amount"], "distinct": [], "new": ["device"], "relation": "public.tx"},
    "features": [{"name": "acct:count:1 hour", "kind": "history", "mean": 2.0, "scale": 4.0, "weight": 0.8},
                 {"name": "acct:new(device)", "kind": "history", "mean": 0.1, "scale": 0.3, "weight": 1.5},
                 {"name": "amount", "kind": "numeric", "mean": 50, "scale": 10, "weight": 0.1}]})doc";
  const Model m = ParseModelDocument(text);
  ASSERT_TRUE(m.history.has_value());
  EXPECT_EQ(m.history->relation, "public.tx");
  EXPECT_EQ(m.features[0].history, 0);  // first derived: count over the first window
  EXPECT_EQ(m.features[1].history, 6);  // count, sum, mean, ratio, seconds_since_last, age_seconds, new(device)
  EXPECT_EQ(m.features[2].history, -1);
  const nlohmann::json out = ModelToJson(m);
  EXPECT_EQ(out["features"][0]["kind"], "history");
  EXPECT_EQ(out["features"][2]["kind"], "numeric");
  EXPECT_EQ(ModelToJson(ModelFromJson(out)), out);
  FeatureValue values[3] = {FeatureValue::Number(6.0), FeatureValue::Number(1.0), FeatureValue::Missing()};
  EXPECT_NEAR(m.Logit(values), -1.0 + 0.8 * (6.0 - 2.0) / 4.0 + 1.5 * (1.0 - 0.1) / 0.3, 1e-12);
  nlohmann::json bad = out;
  bad["features"][0]["name"] = "acct:count:2 hours";
  EXPECT_THROW(ModelFromJson(bad), Error);
  bad = out;
  bad.erase("history");
  EXPECT_THROW(ModelFromJson(bad), Error);
}

TEST(Classify, MapsExceptionTypes) {
  EXPECT_EQ(Classify(std::make_exception_ptr(std::bad_alloc())).code, ErrorCode::kOutOfMemory);
  EXPECT_EQ(Classify(std::make_exception_ptr(Error(ErrorCode::kUndefinedObject, "m"))).code,
            ErrorCode::kUndefinedObject);
  EXPECT_EQ(Classify(std::make_exception_ptr(std::runtime_error("x"))).code, ErrorCode::kInternal);
  EXPECT_EQ(Classify(std::make_exception_ptr(42)).code, ErrorCode::kInternal);
  try {
    (void)json::parse("[1]").at(5);
  } catch (...) {
    ErrorInfo info = Classify(std::current_exception());
    EXPECT_EQ(info.code, ErrorCode::kInvalidModelDocument);
  }
}

TEST(Sigmoid, StableAtExtremes) {
  EXPECT_EQ(Model::Sigmoid(-1000), 0.0);
  EXPECT_EQ(Model::Sigmoid(1000), 1.0);
  EXPECT_DOUBLE_EQ(Model::Sigmoid(0), 0.5);
}

}  // namespace
}  // namespace pgfraud
