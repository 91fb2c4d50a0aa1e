// fraud_rules at run time: jsonpath predicates evaluated against a transaction.
#pragma once

#include <string>
#include <vector>

#include "scoring/model_cache.hpp"
#include "pg_headers.hpp"

namespace pgfraud {
namespace glue {

// What the enabled rules of a model said about one transaction.
struct RuleVerdict {
  bool flag = false;   // a 'flag' rule matched
  bool allow = false;  // an 'allow' rule matched: it wins over the score and 'flag' rules
  int skipped = 0;     // rules whose predicate gave no boolean (a type mismatch, say)
};

// Evaluates every rule of `model` on `tx` with jsonb_path_match in silent mode: a predicate
// that errors or yields no boolean does not fire and is counted as skipped. Names of the
// rules that fired are appended to `fired`, and of those skipped to `errored`, when not null.
RuleVerdict EvaluateRules(const CachedModel& model, Jsonb* tx, std::vector<const char*>* fired,
                          std::vector<const char*>* errored = nullptr);

// The flag decision: the logit reaches the model's threshold (Model::Flags) or a 'flag' rule
// fired, unless an 'allow' rule fired.
inline bool Flagged(const Model& model, double logit, const RuleVerdict& rules) {
  return (model.Flags(logit) || rules.flag) && !rules.allow;
}

}  // namespace glue
}  // namespace pgfraud
