// The per-backend model cache (docs/architecture.md): no table read per call.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/model.hpp"
#include "pg_headers.hpp"

namespace pgfraud {
namespace glue {

// An enabled rule of fraud_rules: a jsonpath predicate and what a match does.
struct CachedRule {
  std::string name;
  bool allow;  // action 'allow' (clears the flag); otherwise 'flag'
  Datum path;  // jsonpath, copied into the cache's memory context
};

// One model version as loaded from fraud_models, with its enabled rules.
struct CachedModel {
  Model model;
  std::string name;
  int32 version = 0;
  int64 id = 0;
  std::vector<uint32_t> jsonb_order;  // feature indices in jsonb key order (JsonbKeyOrder)
  std::vector<CachedRule> rules;      // sorted by name
  bool all_numeric = false;           // logistic regression, every feature numeric: jsonb scoring takes NumericLogit
};

// The active version of model `name`, loaded on first use after an invalidation.
// The reference stays valid while ModelCacheGeneration() is unchanged and !ModelCacheStale().
// fn_oid is any pg_fraud function: its schema is the extension's schema.
const CachedModel& ActiveModel(Oid fn_oid, std::string_view name);

// Version `version` of model `name`, active or not (what flagged a stored row, say), cached
// as ActiveModel's are; its rules are the model's enabled rules as they are now.
const CachedModel& ModelVersion(Oid fn_oid, std::string_view name, int32 version);

// Counts cache flushes; a holder of a CachedModel pointer re-resolves when it changes.
uint64_t ModelCacheGeneration() noexcept;

// True when an invalidation arrived since the last flush (the next lookup flushes).
bool ModelCacheStale() noexcept;

// Counts relcache invalidations of any relation: a column plan made for a row type is
// valid while it is unchanged (ALTER TABLE invalidates the table's relcache entry).
uint64_t SchemaEpoch() noexcept;

// Registers the relcache callback that marks the cache stale; once, from _PG_init.
void RegisterModelCacheCallback();

}  // namespace glue
}  // namespace pgfraud
