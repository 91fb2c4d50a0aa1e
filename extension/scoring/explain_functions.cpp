// fraud_explain: each feature's contribution to the logit, largest absolute contribution first.
#include <algorithm>
#include <charconv>
#include <cmath>

#include "common/errors.hpp"
#include "guard.hpp"
#include "history/history_lookup.hpp"
#include "values/jsonb_values.hpp"
#include "scoring/score_state.hpp"

namespace pgfraud {
namespace glue {
namespace {

// One output row, in PostgreSQL memory so that no C++ object outlives the computation.
struct ExplainRow {
  const char* feature;
  char* value;  // NULL when the value is missing
  double contribution;
};

// The text of a feature value as the model read it; nullptr when missing.
char* ValueText(const FeatureValue& v) {
  switch (v.kind) {
    case FeatureValue::Kind::kMissing: return nullptr;
    case FeatureValue::Kind::kNumber: {
      char buf[64];
      auto result = std::to_chars(buf, buf + sizeof buf - 1, v.number);
      *result.ptr = '\0';
      return pstrdup(buf);
    }
    case FeatureValue::Kind::kBool: return pstrdup(v.flag ? "true" : "false");
    default: return pnstrdup(v.text.data(), v.text.size());
  }
}

// The rows for values already read, sorted by |contribution| descending, then the intercept,
// so that the contributions add up to the logit.
ExplainRow* ExplainValues(const Model& model, const FeatureValue* values, size_t* count) {
  const size_t n = model.features.size();
  std::vector<double> contributions = model.Contributions(values);
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return std::fabs(contributions[a]) > std::fabs(contributions[b]); });
  ExplainRow* rows = PgCall([n] { return static_cast<ExplainRow*>(palloc0(sizeof(ExplainRow) * (n + 2))); });
  // An hour_of_day or day_of_week feature shows the hour or weekday it used (in the model's
  // zone), not the timestamp it came from.
  for (size_t r = 0; r < n; ++r) {
    const Feature& f = model.features[order[r]];
    const FeatureValue& v = values[order[r]];
    rows[r].contribution = contributions[order[r]];
    const bool slot = f.kind == FeatureKind::kHourOfDay || f.kind == FeatureKind::kDayOfWeek;
    const int hour_or_day = slot ? ReadSlot(f, v) : -1;
    PgCall([&] {
      rows[r].feature = slot ? psprintf("%s (%s)", f.name.c_str(), FeatureKindName(f.kind)) : pstrdup(f.name.c_str());
      rows[r].value = !slot ? ValueText(v) : hour_or_day < 0 ? nullptr : psprintf("%d", hour_or_day);
    });
  }
  rows[n].contribution = model.intercept;
  PgCall([&] { rows[n].feature = pstrdup("(intercept)"); });
  *count = n + 1;
  return rows;
}

// The version argument (2): a positive version of the model, or 0 for its active one.
int32 VersionArg(FunctionCallInfo fcinfo) {
  if (PG_NARGS() <= 2) return 0;
  const int32 version = PG_GETARG_INT32(2);
  if (version <= 0) throw Error(ErrorCode::kInvalidParameterValue, "a model version is a positive number");
  return version;
}

// Computes the rows for one jsonb transaction (history from the model's relation).
ExplainRow* ExplainJsonb(FunctionCallInfo fcinfo, Jsonb* tx, size_t* count) {
  ScoreState& state = StateOf(fcinfo);
  const CachedModel& cached = ResolveModel(fcinfo, state, ModelNameArg(fcinfo, 1), VersionArg(fcinfo));
  const Model& model = cached.model;
  JsonbFeatureValues(model, cached.jsonb_order, tx, state.values, state.jsonb);
  if (model.history) FillHistoryFromJsonb(model, HistoryRelation(model), tx, state.values);
  return ExplainValues(model, state.values, count);
}

// Computes the rows for a table row (history from the row's table, as of its own time).
ExplainRow* ExplainRowValues(FunctionCallInfo fcinfo, size_t* count) {
  const Oid arg_type = get_fn_expr_argtype(fcinfo->flinfo, 0);
  if (!type_is_rowtype(arg_type)) {
    throw Error(ErrorCode::kDatatypeMismatch, "fraud_explain takes a jsonb object or a table row");
  }
  HeapTupleHeader row = PG_GETARG_HEAPTUPLEHEADER(0);
  ScoreState& state = StateOf(fcinfo);
  const CachedModel& cached = ResolveModel(fcinfo, state, ModelNameArg(fcinfo, 1), VersionArg(fcinfo));
  state.rows.Read(cached.model, row, state.values);
  if (cached.model.history) FillStoredRowHistory(cached.model, row, state.rows, state.values);
  return ExplainValues(cached.model, state.values, count);
}

// Returns the rows as the function's result set.
Datum ReturnRows(FunctionCallInfo fcinfo, ExplainRow* rows, size_t count) {
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  for (size_t i = 0; i < count; ++i) {
    Datum values[3] = {CStringGetTextDatum(rows[i].feature),
                       rows[i].value ? CStringGetTextDatum(rows[i].value) : (Datum)0,
                       Float8GetDatum(rows[i].contribution)};
    bool nulls[3] = {false, rows[i].value == nullptr, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  return (Datum)0;
}

}  // namespace
}  // namespace glue
}  // namespace pgfraud

extern "C" {

PG_FUNCTION_INFO_V1(fraud_explain_jsonb);
// fraud_explain(tx jsonb[, model text]) -> TABLE(feature text, value text, contribution float8)
Datum fraud_explain_jsonb(PG_FUNCTION_ARGS) {
  size_t count = 0;
  pgfraud::glue::ExplainRow* rows = reinterpret_cast<pgfraud::glue::ExplainRow*>(DatumGetPointer(pgfraud::glue::Guard(
      [&] { return PointerGetDatum(pgfraud::glue::ExplainJsonb(fcinfo, PG_GETARG_JSONB_P(0), &count)); })));
  return pgfraud::glue::ReturnRows(fcinfo, rows, count);
}

PG_FUNCTION_INFO_V1(fraud_explain_text);
// fraud_explain(tx text[, model text]): the same for JSON text (what an unknown literal resolves to).
Datum fraud_explain_text(PG_FUNCTION_ARGS) {
  size_t count = 0;
  pgfraud::glue::ExplainRow* rows =
      reinterpret_cast<pgfraud::glue::ExplainRow*>(DatumGetPointer(pgfraud::glue::Guard([&] {
        Jsonb* tx = pgfraud::glue::ParseTransactionText(PG_GETARG_TEXT_PP(0));
        return PointerGetDatum(pgfraud::glue::ExplainJsonb(fcinfo, tx, &count));
      })));
  return pgfraud::glue::ReturnRows(fcinfo, rows, count);
}

PG_FUNCTION_INFO_V1(fraud_explain_row);
// fraud_explain(tx anyelement[, model text]): the same for a table row.
Datum fraud_explain_row(PG_FUNCTION_ARGS) {
  size_t count = 0;
  pgfraud::glue::ExplainRow* rows = reinterpret_cast<pgfraud::glue::ExplainRow*>(DatumGetPointer(
      pgfraud::glue::Guard([&] { return PointerGetDatum(pgfraud::glue::ExplainRowValues(fcinfo, &count)); })));
  return pgfraud::glue::ReturnRows(fcinfo, rows, count);
}

}  // extern "C"
