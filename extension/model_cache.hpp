// The per-backend model cache (DESIGN.md, "Architecture"): no table read per call.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "model.hpp"
#include "pg_headers.hpp"

namespace pgfraud {
namespace glue {

// One model version as loaded from fraud_models.
struct CachedModel {
  Model model;
  std::string name;
  int32 version = 0;
  int64 id = 0;
  std::vector<uint32_t> jsonb_order;  // feature indices in jsonb key order (JsonbKeyOrder)
};

// The active version of model `name`, loaded on first use after an invalidation.
// The reference stays valid while ModelCacheGeneration() is unchanged and !ModelCacheStale().
// fn_oid is any pg_fraud function: its schema is the extension's schema.
const CachedModel& ActiveModel(Oid fn_oid, std::string_view name);

// Counts cache flushes; a holder of a CachedModel pointer re-resolves when it changes.
uint64_t ModelCacheGeneration() noexcept;

// True when an invalidation arrived since the last flush (the next lookup flushes).
bool ModelCacheStale() noexcept;

// Registers the relcache callback that marks the cache stale; once, from _PG_init.
void RegisterModelCacheCallback();

// The OID of fraud_models in the extension's schema (looked up once per flush).
Oid ModelsRelation(Oid fn_oid);

}  // namespace glue
}  // namespace pgfraud
