// Model resolution and row planning shared by fraud_score, fraud_is_fraud and the trigger.
#include "score_state.hpp"

#include <cstring>

#include "guard.hpp"

namespace pgfraud {
namespace glue {

ScoreState& StateOf(FunctionCallInfo fcinfo) {
  if (fcinfo->flinfo->fn_extra == nullptr) {
    fcinfo->flinfo->fn_extra = PgCall([fcinfo] {
      return MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ScoreState));
    });
    static_cast<ScoreState*>(fcinfo->flinfo->fn_extra)->context = fcinfo->flinfo->fn_mcxt;
  }
  return *static_cast<ScoreState*>(fcinfo->flinfo->fn_extra);
}

const CachedModel& ResolveModel(FunctionCallInfo fcinfo, ScoreState& state, std::string_view name) {
  if (state.model != nullptr && state.generation == ModelCacheGeneration() && !ModelCacheStale() &&
      name == std::string_view(state.model_name, state.model_name_len)) {
    return *state.model;
  }
  const CachedModel& model = ActiveModel(fcinfo->flinfo->fn_oid, name);
  MemoryContext cxt = state.context;
  const size_t n = model.model.features.size();
  PgCall([&] {
    if (state.model_name != nullptr) pfree(state.model_name);
    if (state.values != nullptr) pfree(state.values);
    if (state.plans != nullptr) pfree(state.plans);
    if (state.jsonb.key_of != nullptr) pfree(state.jsonb.key_of);
    state.jsonb.key_of = static_cast<int32_t*>(MemoryContextAllocZero(cxt, sizeof(int32_t) * (n + 1)));
    state.model_name = static_cast<char*>(MemoryContextAlloc(cxt, name.size() + 1));
    state.values = static_cast<FeatureValue*>(MemoryContextAllocZero(cxt, sizeof(FeatureValue) * (n + 1)));
    state.plans = static_cast<ColumnPlan*>(MemoryContextAllocZero(cxt, sizeof(ColumnPlan) * (n + 1)));
  });
  std::memcpy(state.model_name, name.data(), name.size());
  state.model_name[name.size()] = '\0';
  state.model_name_len = name.size();
  state.model = &model;
  state.generation = ModelCacheGeneration();
  state.row_type = InvalidOid;  // the plan depends on the model's features
  state.jsonb.context = cxt;
  ResetJsonbScratch(state.jsonb);
  return model;
}

void LoadRowValues(ScoreState& state, HeapTupleHeader row) {
  Oid type = HeapTupleHeaderGetTypeId(row);
  int32 typmod = HeapTupleHeaderGetTypMod(row);
  if (state.row_type != type || state.row_typmod != typmod || state.row_desc == nullptr) {
    TupleDesc desc = PgCall([&] {
      MemoryContext old = MemoryContextSwitchTo(state.context);
      TupleDesc looked_up = lookup_rowtype_tupdesc(type, typmod);
      TupleDesc copy = CreateTupleDescCopy(looked_up);
      ReleaseTupleDesc(looked_up);
      if (state.datums != nullptr) pfree(state.datums);
      if (state.nulls != nullptr) pfree(state.nulls);
      state.datums = static_cast<Datum*>(palloc(sizeof(Datum) * (copy->natts + 1)));
      state.nulls = static_cast<bool*>(palloc(sizeof(bool) * (copy->natts + 1)));
      MemoryContextSwitchTo(old);
      return copy;
    });
    state.row_type = InvalidOid;  // stays invalid if planning fails
    if (state.row_desc != nullptr) PgCall([&] { FreeTupleDesc(state.row_desc); });
    state.row_desc = desc;
    PlanColumns(state.model->model, desc, state.plans);
    state.row_type = type;
    state.row_typmod = typmod;
  }
  HeapTupleData tuple;
  tuple.t_len = HeapTupleHeaderGetDatumLength(row);
  ItemPointerSetInvalid(&tuple.t_self);
  tuple.t_tableOid = InvalidOid;
  tuple.t_data = row;
  heap_deform_tuple(&tuple, state.row_desc, state.datums, state.nulls);
  RowFeatureValues(state.model->model, state.plans, state.datums, state.nulls, state.values);
}

std::string_view ModelNameArg(FunctionCallInfo fcinfo, int argno) {
  if (PG_NARGS() <= argno) return "default";
  text* name = PG_GETARG_TEXT_PP(argno);
  return std::string_view(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name));
}

}  // namespace glue
}  // namespace pgfraud
