// SQL entry points that score: fraud_score and fraud_is_fraud, on jsonb and on typed rows.
#include "guard.hpp"
#include "history/history_lookup.hpp"
#include "values/jsonb_values.hpp"
#include "scoring/score_state.hpp"
#include "common/errors.hpp"
#include "scoring/rules.hpp"

namespace pgfraud {
namespace glue {
namespace {

// The logit of a jsonb transaction under the model named by argument 1.
double LogitJsonb(FunctionCallInfo fcinfo, Jsonb* tx) {
  ScoreState& state = StateOf(fcinfo);
  const CachedModel& model = ResolveModel(fcinfo, state, ModelNameArg(fcinfo, 1));
  if (model.model.history) {  // history: the entity's rows as they are now, never this one
    JsonbFeatureValues(model.model, model.jsonb_order, tx, state.values, state.jsonb);
    FillHistoryFromJsonb(model.model, HistoryRelation(model.model), tx, state.values);
    return model.model.Logit(state.values);
  }
  double logit;
  if (model.all_numeric && NumericLogit(model.model, model.jsonb_order, tx, state.jsonb, &logit)) return logit;
  JsonbFeatureValues(model.model, model.jsonb_order, tx, state.values, state.jsonb);
  return model.model.Logit(state.values);
}

// The logit of the row in argument 0 under the model named by argument 1.
double LogitRow(FunctionCallInfo fcinfo) {
  Oid arg_type = get_fn_expr_argtype(fcinfo->flinfo, 0);
  if (!type_is_rowtype(arg_type)) {
    throw Error(ErrorCode::kDatatypeMismatch, "fraud_score takes a jsonb object or a table row",
                "Cast the value to jsonb, or pass a whole row such as fraud_score(t) FROM t.");
  }
  HeapTupleHeader row = PG_GETARG_HEAPTUPLEHEADER(0);
  ScoreState& state = StateOf(fcinfo);
  const CachedModel& model = ResolveModel(fcinfo, state, ModelNameArg(fcinfo, 1));
  state.rows.Read(model.model, row, state.values);
  if (model.model.history) FillStoredRowHistory(model.model, row, state.rows, state.values);
  return model.model.Logit(state.values);
}

}  // namespace
}  // namespace glue
}  // namespace pgfraud

using pgfraud::glue::Guard;

extern "C" {

PG_FUNCTION_INFO_V1(fraud_score_jsonb);
// fraud_score(tx jsonb[, model text]) -> float8
Datum fraud_score_jsonb(PG_FUNCTION_ARGS) {
  return Guard(
      [&] { return Float8GetDatum(pgfraud::Model::Sigmoid(pgfraud::glue::LogitJsonb(fcinfo, PG_GETARG_JSONB_P(0)))); });
}

PG_FUNCTION_INFO_V1(fraud_score_text);
// fraud_score(tx text[, model text]) -> float8, for JSON text from applications.
Datum fraud_score_text(PG_FUNCTION_ARGS) {
  return Guard([&] {
    Jsonb* tx = pgfraud::glue::ParseTransactionText(PG_GETARG_TEXT_PP(0));
    return Float8GetDatum(pgfraud::Model::Sigmoid(pgfraud::glue::LogitJsonb(fcinfo, tx)));
  });
}

PG_FUNCTION_INFO_V1(fraud_score_row);
// fraud_score(tx anyelement[, model text]) -> float8, reading the row's columns directly.
Datum fraud_score_row(PG_FUNCTION_ARGS) {
  return Guard([&] { return Float8GetDatum(pgfraud::Model::Sigmoid(pgfraud::glue::LogitRow(fcinfo))); });
}

namespace {

// Whether a jsonb transaction is flagged: the score reaches the model threshold or a 'flag'
// rule matches, unless an 'allow' rule matches.
bool IsFraudJsonb(FunctionCallInfo fcinfo, Jsonb* tx) {
  const double logit = pgfraud::glue::LogitJsonb(fcinfo, tx);
  const pgfraud::glue::CachedModel& model = *pgfraud::glue::StateOf(fcinfo).model;
  pgfraud::glue::RuleVerdict rules;
  if (!model.rules.empty()) rules = pgfraud::glue::EvaluateRules(model, tx, nullptr);
  return pgfraud::glue::Flagged(model.model, logit, rules);
}

}  // namespace

PG_FUNCTION_INFO_V1(fraud_is_fraud_jsonb);
// fraud_is_fraud(tx jsonb[, model text]) -> boolean (IsFraudJsonb).
Datum fraud_is_fraud_jsonb(PG_FUNCTION_ARGS) {
  return Guard([&] { return BoolGetDatum(IsFraudJsonb(fcinfo, PG_GETARG_JSONB_P(0))); });
}

PG_FUNCTION_INFO_V1(fraud_is_fraud_text);
// fraud_is_fraud(tx text[, model text]): the same for JSON text (what a bare literal resolves
// to, now that a row overload exists).
Datum fraud_is_fraud_text(PG_FUNCTION_ARGS) {
  return Guard([&] {
    Jsonb* tx = pgfraud::glue::ParseTransactionText(PG_GETARG_TEXT_PP(0));
    return BoolGetDatum(IsFraudJsonb(fcinfo, tx));
  });
}

PG_FUNCTION_INFO_V1(fraud_is_fraud_row);
// fraud_is_fraud(tx anyelement[, model text]) -> boolean: the same for a table row (rules read
// it as to_jsonb(row), as the trigger's do).
Datum fraud_is_fraud_row(PG_FUNCTION_ARGS) {
  return Guard([&] {
    const double logit = pgfraud::glue::LogitRow(fcinfo);
    const pgfraud::glue::CachedModel& model = *pgfraud::glue::StateOf(fcinfo).model;
    pgfraud::glue::RuleVerdict rules;
    if (!model.rules.empty()) {
      // to_jsonb reads its argument's type from its call expression: give it one, as the
      // trigger does for its rules.
      Jsonb* row = pgfraud::glue::PgCall([&] {
        FmgrInfo to_json;
        fmgr_info(F_TO_JSONB, &to_json);
        FuncExpr* call = makeFuncExpr(F_TO_JSONB, JSONBOID,
                                      list_make1(makeNullConst(get_fn_expr_argtype(fcinfo->flinfo, 0), -1, InvalidOid)),
                                      InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
        fmgr_info_set_expr(reinterpret_cast<Node*>(call), &to_json);
        return DatumGetJsonbP(FunctionCall1(&to_json, PG_GETARG_DATUM(0)));
      });
      rules = pgfraud::glue::EvaluateRules(model, row, nullptr);
    }
    return BoolGetDatum(pgfraud::glue::Flagged(model.model, logit, rules));
  });
}

}  // extern "C"
