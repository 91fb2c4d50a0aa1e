// Model resolution and row planning shared by fraud_score, fraud_is_fraud and the trigger.
#include "scoring/score_state.hpp"

#include <cstring>

#include "guard.hpp"

namespace pgfraud {
namespace glue {

ScoreState& StateOf(FunctionCallInfo fcinfo) {
  if (fcinfo->flinfo->fn_extra == nullptr) {
    fcinfo->flinfo->fn_extra =
        PgCall([fcinfo] { return MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ScoreState)); });
    static_cast<ScoreState*>(fcinfo->flinfo->fn_extra)->context = fcinfo->flinfo->fn_mcxt;
  }
  return *static_cast<ScoreState*>(fcinfo->flinfo->fn_extra);
}

const CachedModel& ResolveModel(FunctionCallInfo fcinfo, ScoreState& state, std::string_view name, int32 version) {
  if (state.model != nullptr && state.generation == ModelCacheGeneration() && !ModelCacheStale() &&
      name == std::string_view(state.model_name, state.model_name_len) && version == state.model_version) {
    return *state.model;
  }
  const CachedModel& model =
      version > 0 ? ModelVersion(fcinfo->flinfo->fn_oid, name, version) : ActiveModel(fcinfo->flinfo->fn_oid, name);
  state.model_version = version;
  MemoryContext cxt = state.context;
  const size_t n = model.model.features.size();
  PgCall([&] {
    if (state.model_name != nullptr) pfree(state.model_name);
    if (state.values != nullptr) pfree(state.values);
    if (state.jsonb.key_of != nullptr) pfree(state.jsonb.key_of);
    state.jsonb.key_of = static_cast<int32_t*>(MemoryContextAllocZero(cxt, sizeof(int32_t) * (n + 1)));
    state.model_name = static_cast<char*>(MemoryContextAlloc(cxt, name.size() + 1));
    state.values = static_cast<FeatureValue*>(MemoryContextAllocZero(cxt, sizeof(FeatureValue) * (n + 1)));
  });
  std::memcpy(state.model_name, name.data(), name.size());
  state.model_name[name.size()] = '\0';
  state.model_name_len = name.size();
  state.model = &model;
  state.generation = ModelCacheGeneration();
  state.rows.Reset(cxt, n);  // the row plan depends on the model's features
  state.jsonb.context = cxt;
  ResetJsonbScratch(state.jsonb);
  return model;
}

std::string_view ModelNameArg(FunctionCallInfo fcinfo, int argno) {
  if (PG_NARGS() <= argno) return "default";
  text* name = PG_GETARG_TEXT_PP(argno);
  return std::string_view(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name));
}

}  // namespace glue
}  // namespace pgfraud
