// Per-call-site state of the scoring functions, kept in fn_extra.
#pragma once

#include <string_view>

#include "scoring/model_cache.hpp"
#include "values/jsonb_values.hpp"
#include "values/row_values.hpp"

namespace pgfraud {
namespace glue {

// What one call site remembers between rows: the resolved model and the row-type plan.
struct ScoreState {
  MemoryContext context;  // fn_mcxt: lives as long as the call site
  uint64_t generation;
  const CachedModel* model;
  char* model_name;
  size_t model_name_len;
  int32 model_version;   // the version asked for (0: the active one)
  FeatureValue* values;  // one per feature of `model`
  JsonbScratch jsonb;    // jsonb key positions and the last key layout
  RowReader rows;        // typed rows: the plan for the row type last seen
};

// The call site's state, created in fn_mcxt on first use.
ScoreState& StateOf(FunctionCallInfo fcinfo);

// The model for this call: the cached one while nothing changed, else re-resolved by name
// (and version: 0 for the active one).
const CachedModel& ResolveModel(FunctionCallInfo fcinfo, ScoreState& state, std::string_view name, int32 version = 0);

// The model name argument `argno` as a view of the text datum, or "default" when absent.
std::string_view ModelNameArg(FunctionCallInfo fcinfo, int argno);

}  // namespace glue
}  // namespace pgfraud
