// XGBoost models trained elsewhere, as pg_fraud documents: the JSON Booster.save_model("m.json")
// writes (XGBoost 1.7, objective binary:logistic, gbtree), alone when it names its features,
// or wrapped with a mapping of its inputs to the transaction's keys:
//   {"xgboost": <the Booster JSON>, "inputs": [{"name": "amount"},
//     {"name": "channel", "equals": "web"}, {"name": "is_online", "kind": "boolean"}],
//    "threshold": 0.5, "label": "is_fraud"}
// one input per XGBoost feature, in its order: a number, a boolean as 0/1, a one-hot column
// of a categorical key, or a history feature ({"name": "account_id:count:1 hour", "kind":
// "history"}, with the wrapper's "history" declaration, as a document has it).
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

namespace pgfraud {

// The pg_fraud.model/1 document of an XGBoost model or wrapper; nullopt when `doc` is neither
// (no "learner" nor "xgboost" key). Throws Error(kInvalidModelDocument) on what it cannot map.
std::optional<nlohmann::json> XGBoostToDocument(const nlohmann::json& doc);

// The document's "trees" of an XGBoost booster (binary:logistic, gbtree): base_margin and
// the trees, without "inputs". Throws Error(kInvalidModelDocument) on what it cannot map.
nlohmann::json XGBoostTrees(const nlohmann::json& booster);

}  // namespace pgfraud
