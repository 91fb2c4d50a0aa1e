// fraud_flag_trigger: scores and flags each inserted row in a BEFORE INSERT row trigger.
//
// Arguments: model, flag column, score column, and optionally a model-version column, a
// fired-rules column (text[]) and a NOTIFY channel ('' for none). The row's columns are
// read directly; the column plan, the output columns and the model are kept per trigger
// for the whole session (not per statement), and rebuilt only when the model cache is
// flushed or a relation changes shape.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/errors.hpp"
#include "guard.hpp"
#include "history/history_lookup.hpp"
#include "history/history_sql.hpp"
#include "scoring/model_cache.hpp"
#include "values/row_values.hpp"
#include "scoring/rules.hpp"

namespace pgfraud {
namespace glue {
namespace {

// Everything one trigger needs between rows and statements.
struct TriggerTarget {
  MemoryContext context = nullptr;  // the reader's plans and the row buffers
  std::string model_name, flag_column, score_column, version_column, rules_column, channel, history_column,
      history_relation;
  uint64_t generation = 0;
  const CachedModel* model = nullptr;
  RowReader reader{};
  FeatureValue* values = nullptr;
  // Output plan, valid for `epoch` and `type`.
  uint64_t epoch = 0;
  Oid type = InvalidOid;
  AttrNumber flag_att = 0, score_att = 0, version_att = 0, rules_att = 0, history_att = 0;
  Oid score_type = InvalidOid, version_type = InvalidOid;
  std::vector<AttrNumber> key_atts;
  std::vector<Oid> key_output;  // output functions of the key columns
  std::string table;            // schema-qualified, for notifications
  Oid history_relid = InvalidOid;  // where history is read: the table, or the attach option's relation
  FmgrInfo to_jsonb{};          // to_jsonb(row) for rules, typed for this row type
  // No destructor frees `context`: targets live as long as the backend, and static
  // destructors run at process exit, when calling into PostgreSQL is no longer safe.
};

std::unordered_map<Oid, std::unique_ptr<TriggerTarget>> g_targets;  // by trigger OID

std::string Argument(const Trigger* trigger, int i) {
  return i < trigger->tgnargs ? std::string(trigger->tgargs[i]) : std::string();
}

// The attribute number of a column by exact name, else a unique case-insensitive match.
AttrNumber FindColumn(TupleDesc desc, const std::string& name, const char* role) {
  AttrNumber folded = 0;
  for (int i = 0; i < desc->natts; ++i) {
    Form_pg_attribute att = TupleDescAttr(desc, i);
    if (att->attisdropped) continue;
    if (name == NameStr(att->attname)) return att->attnum;
    if (pg_strcasecmp(name.c_str(), NameStr(att->attname)) == 0) folded = att->attnum;
  }
  if (folded == 0) {
    throw Error(ErrorCode::kUndefinedColumn, std::string(role) + " column \"" + name + "\" does not exist",
                "Create it, or attach with fraud_attach(..., '{\"add_columns\": true}').");
  }
  return folded;
}

void RequireType(TupleDesc desc, AttrNumber att, std::initializer_list<Oid> types, const std::string& name,
                 const char* expected) {
  Oid type = TupleDescAttr(desc, att - 1)->atttypid;
  for (Oid t : types) {
    if (t == type) return;
  }
  throw Error(ErrorCode::kDatatypeMismatch, "column \"" + name + "\" must be of type " + expected);
}

// (Re)builds the output plan for the relation's current shape.
void PlanOutputs(TriggerTarget& t, Relation rel) {
  TupleDesc desc = RelationGetDescr(rel);
  t.flag_att = FindColumn(desc, t.flag_column, "flag");
  RequireType(desc, t.flag_att, {BOOLOID}, t.flag_column, "boolean");
  t.score_att = FindColumn(desc, t.score_column, "score");
  RequireType(desc, t.score_att, {FLOAT8OID, FLOAT4OID, NUMERICOID}, t.score_column, "double precision, real or numeric");
  t.score_type = TupleDescAttr(desc, t.score_att - 1)->atttypid;
  t.version_att = t.version_column.empty() ? 0 : FindColumn(desc, t.version_column, "version");
  if (t.version_att) {
    RequireType(desc, t.version_att, {INT4OID, INT8OID}, t.version_column, "integer or bigint");
    t.version_type = TupleDescAttr(desc, t.version_att - 1)->atttypid;
  }
  t.rules_att = t.rules_column.empty() ? 0 : FindColumn(desc, t.rules_column, "rules");
  if (t.rules_att) RequireType(desc, t.rules_att, {TEXTARRAYOID}, t.rules_column, "text[]");
  t.history_att = t.history_column.empty() ? 0 : FindColumn(desc, t.history_column, "history");
  if (t.history_att) RequireType(desc, t.history_att, {JSONBOID}, t.history_column, "jsonb");
  t.key_atts.clear();
  t.key_output.clear();
  PgCall([&] {
    t.table = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)), RelationGetRelationName(rel));
    Oid pk = RelationGetPrimaryKeyIndex(rel);
    if (OidIsValid(pk)) {
      Relation index = index_open(pk, AccessShareLock);
      for (int i = 0; i < index->rd_index->indnkeyatts; ++i) {
        AttrNumber att = index->rd_index->indkey.values[i];
        Oid output;
        bool varlena;
        getTypeOutputInfo(TupleDescAttr(desc, att - 1)->atttypid, &output, &varlena);
        t.key_atts.push_back(att);
        t.key_output.push_back(output);
      }
      index_close(index, AccessShareLock);
    }
    MemoryContext old = MemoryContextSwitchTo(t.context);
    fmgr_info_cxt(F_TO_JSONB, &t.to_jsonb, t.context);
    FuncExpr* call = makeFuncExpr(F_TO_JSONB, JSONBOID, list_make1(makeNullConst(desc->tdtypeid, -1, InvalidOid)),
                                  InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
    fmgr_info_set_expr(reinterpret_cast<Node*>(call), &t.to_jsonb);
    MemoryContextSwitchTo(old);
  });
  t.history_relid = RelationGetRelid(rel);
  if (!t.history_relation.empty()) {
    t.history_relid = RelationByName(t.history_relation);
  }
  t.type = desc->tdtypeid;
  t.epoch = SchemaEpoch();
}

TriggerTarget& TargetOf(const Trigger* trigger) {
  auto it = g_targets.find(trigger->tgoid);
  if (it != g_targets.end()) return *it->second;
  if (trigger->tgnargs < 3) {
    throw Error(ErrorCode::kInvalidParameterValue, "fraud_flag_trigger needs at least 3 arguments",
                "Arguments: model, flag column, score column[, version column, rules column, notify channel, "
                "history column, history relation].");
  }
  auto t = std::make_unique<TriggerTarget>();
  t->model_name = Argument(trigger, 0);
  t->flag_column = Argument(trigger, 1);
  t->score_column = Argument(trigger, 2);
  t->version_column = Argument(trigger, 3);
  t->rules_column = Argument(trigger, 4);
  t->channel = Argument(trigger, 5);
  t->history_column = Argument(trigger, 6);
  t->history_relation = Argument(trigger, 7);
  t->context = PgCall([] {
    return AllocSetContextCreate(TopMemoryContext, "pg_fraud trigger", ALLOCSET_SMALL_SIZES);
  });
  TriggerTarget& ref = *t;
  g_targets[trigger->tgoid] = std::move(t);
  return ref;
}

// The notification payload: table, key, score, model, version and fired rules; no values.
char* Payload(TriggerTarget& t, HeapTuple tuple, TupleDesc desc, double score, const std::vector<const char*>& fired) {
  StringInfoData buf;
  initStringInfo(&buf);
  appendStringInfoString(&buf, "{\"table\": ");
  escape_json(&buf, t.table.c_str());
  appendStringInfoString(&buf, ", \"key\": ");
  if (t.key_atts.empty()) {
    appendStringInfoString(&buf, "null");
  } else {
    if (t.key_atts.size() > 1) appendStringInfoChar(&buf, '[');
    for (size_t i = 0; i < t.key_atts.size(); ++i) {
      bool isnull;
      Datum d = heap_getattr(tuple, t.key_atts[i], desc, &isnull);
      if (i > 0) appendStringInfoString(&buf, ", ");
      if (isnull) {
        appendStringInfoString(&buf, "null");
      } else {
        escape_json(&buf, OidOutputFunctionCall(t.key_output[i], d));
      }
    }
    if (t.key_atts.size() > 1) appendStringInfoChar(&buf, ']');
  }
  appendStringInfo(&buf, ", \"score\": %.6f, \"model\": ", score);
  escape_json(&buf, t.model->name.c_str());
  appendStringInfo(&buf, ", \"version\": %d, \"rules\": [", t.model->version);
  for (size_t i = 0; i < fired.size(); ++i) {
    if (i > 0) appendStringInfoString(&buf, ", ");
    escape_json(&buf, fired[i]);
  }
  appendStringInfoString(&buf, "]}");
  return buf.data;
}

// The history features the row was scored with, as {"feature": value or null} (PostgreSQL
// code: inside PgCall). Numbers are written with 17 significant digits: they read back exactly.
Datum HistoryJsonb(const Model& model, const FeatureValue* values) {
  StringInfoData buf;
  initStringInfo(&buf);
  appendStringInfoChar(&buf, '{');
  bool first = true;
  for (size_t i = 0; i < model.features.size(); ++i) {
    if (model.features[i].history < 0) continue;
    if (!first) appendStringInfoString(&buf, ", ");
    first = false;
    escape_json(&buf, model.features[i].name.c_str());
    if (values[i].kind == FeatureValue::Kind::kNumber) {
      appendStringInfo(&buf, ": %.17g", values[i].number);
    } else {
      appendStringInfoString(&buf, ": null");
    }
  }
  appendStringInfoChar(&buf, '}');
  return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

// Scores, flags and (maybe) notifies for one new row; returns the row to store.
HeapTuple FlagRow(FunctionCallInfo fcinfo) {
  TriggerData* data = reinterpret_cast<TriggerData*>(fcinfo->context);
  if (!TRIGGER_FIRED_BEFORE(data->tg_event) || !TRIGGER_FIRED_FOR_ROW(data->tg_event) ||
      !(TRIGGER_FIRED_BY_INSERT(data->tg_event) || TRIGGER_FIRED_BY_UPDATE(data->tg_event))) {
    throw Error(ErrorCode::kInvalidParameterValue, "fraud_flag_trigger must be a BEFORE INSERT OR UPDATE row trigger");
  }
  HeapTuple tuple = TRIGGER_FIRED_BY_UPDATE(data->tg_event) ? data->tg_newtuple : data->tg_trigtuple;
  Relation rel = data->tg_relation;
  TupleDesc desc = RelationGetDescr(rel);
  TriggerTarget& t = TargetOf(data->tg_trigger);

  if (t.model == nullptr || t.generation != ModelCacheGeneration() || ModelCacheStale()) {
    t.model = &ActiveModel(fcinfo->flinfo->fn_oid, t.model_name);
    t.generation = ModelCacheGeneration();
    const size_t n = t.model->model.features.size();
    t.values = PgCall([&] {
      if (t.values != nullptr) pfree(t.values);
      return static_cast<FeatureValue*>(MemoryContextAllocZero(t.context, sizeof(FeatureValue) * (n + 1)));
    });
    t.reader.Reset(t.context, n);
  }
  if (t.epoch != SchemaEpoch() || t.type != desc->tdtypeid) PlanOutputs(t, rel);

  const Model& model = t.model->model;
  if (model.history) {
    // History: the entities' locks first, so that concurrent inserts of one entity each see
    // the ones committed before them; then a NULL time is stamped; then the lookup.
    LockEntities(model, t.history_relid, tuple, desc);
    tuple = StampTime(model, tuple, desc);
  }
  t.reader.ReadTuple(model, tuple, desc, t.values);
  if (model.history) {
    FillHistoryFromRow(model, t.history_relid, desc, t.reader.datums, t.reader.nulls, t.values, {true, true});
  }
  const double score = t.model->model.Score(t.values);
  RuleVerdict rules;
  std::vector<const char*> fired;
  if (!t.model->rules.empty()) {
    Jsonb* row = PgCall([&] {
      return DatumGetJsonbP(FunctionCall1(&t.to_jsonb, heap_copy_tuple_as_datum(tuple, desc)));
    });
    rules = EvaluateRules(*t.model, row, &fired);
  }
  const bool flagged = Flagged(score, t.model->model.threshold, rules);

  return PgCall([&] {
    int columns[5];
    Datum values[5];
    bool nulls[5] = {false, false, false, false, false};
    int n = 0;
    columns[n] = t.flag_att;
    values[n++] = BoolGetDatum(flagged);
    columns[n] = t.score_att;
    values[n++] = t.score_type == FLOAT8OID   ? Float8GetDatum(score)
                  : t.score_type == FLOAT4OID ? Float4GetDatum(static_cast<float4>(score))
                                              : DirectFunctionCall1(float8_numeric, Float8GetDatum(score));
    if (t.version_att) {
      columns[n] = t.version_att;
      values[n++] = t.version_type == INT8OID ? Int64GetDatum(t.model->version) : Int32GetDatum(t.model->version);
    }
    if (t.rules_att) {
      Datum* names = static_cast<Datum*>(palloc(sizeof(Datum) * (fired.size() + 1)));
      for (size_t i = 0; i < fired.size(); ++i) names[i] = CStringGetTextDatum(fired[i]);
      columns[n] = t.rules_att;
      values[n++] = PointerGetDatum(construct_array(names, static_cast<int>(fired.size()), TEXTOID, -1, false, TYPALIGN_INT));
    }
    if (t.history_att) {
      columns[n] = t.history_att;
      nulls[n] = !model.history;
      values[n++] = model.history ? HistoryJsonb(model, t.values) : (Datum)0;
    }
    HeapTuple result = t.reader.ModifiedTuple(tuple, desc, n, columns, values, nulls);
    if (flagged && !t.channel.empty()) Async_Notify(t.channel.c_str(), Payload(t, result, desc, score, fired));
    return result;
  });
}

}  // namespace
}  // namespace glue
}  // namespace pgfraud

extern "C" {

PG_FUNCTION_INFO_V1(fraud_flag_trigger);
// Trigger: writes the score and the flag of each new row (see the file comment).
Datum fraud_flag_trigger(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo)) {
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("fraud_flag_trigger must be called as a trigger")));
  }
  return pgfraud::glue::Guard([&] { return PointerGetDatum(pgfraud::glue::FlagRow(fcinfo)); });
}

}  // extern "C"
