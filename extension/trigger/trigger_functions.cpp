// fraud_flag_trigger: scores and flags each inserted row in a BEFORE INSERT OR UPDATE row
// trigger; fraud_alert_trigger: the NOTIFY of a flagged row, from an AFTER row trigger, so
// that only rows really stored (and, NOTIFY being transactional, committed) alert.
//
// Arguments of both: model, flag column, score column, and optionally a model-version column,
// a fired-rules column (text[]), a NOTIFY channel ('' for none), a history column, a history
// relation, the update policy ('rescore' or 'clear'), the columns mapping, the error
// policy and a rule-errors column (text[]: rules whose predicate errored). The row's columns are read
// directly; the column plan, the output columns and the model are kept per trigger for the
// whole session (not per statement), and rebuilt only when the model cache is flushed or a
// relation changes shape. An UPDATE is scored again only when a column the model reads
// changed: relabelling a row, or setting its flag by hand, keeps the verdict.
#include <cmath>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "citus/citus_catalog.hpp"
#include "common/errors.hpp"
#include "guard.hpp"
#include "history/history_lookup.hpp"
#include "history/history_sql.hpp"
#include "scoring/model_cache.hpp"
#include "values/row_values.hpp"
#include "scoring/rules.hpp"

extern "C" {
#include "utils/datum.h"
#include "utils/guc.h"
}

namespace pgfraud {
namespace glue {
namespace {

// Everything one trigger needs between rows and statements.
struct TriggerTarget {
  MemoryContext context = nullptr;  // the reader's plans and the row buffers
  std::string model_name, flag_column, score_column, version_column, rules_column, channel, history_column,
      history_relation, rule_errors_column;
  bool clear_on_update = false;        // on_update = 'clear': an UPDATE of a feature column clears the verdict
  ColumnNames columns;                 // the "columns" attach option: feature -> column
  std::vector<AttrNumber> input_atts;  // the columns the model reads (valid for input_generation/epoch)
  uint64_t input_generation = 0, input_epoch = 0;
  uint64_t generation = 0;
  const CachedModel* model = nullptr;
  RowReader reader{};
  FeatureValue* values = nullptr;
  // Output plan, valid for `epoch` and `type`.
  uint64_t epoch = 0;
  Oid type = InvalidOid;
  AttrNumber flag_att = 0, score_att = 0, version_att = 0, rules_att = 0, history_att = 0, rule_errors_att = 0;
  Oid score_type = InvalidOid, version_type = InvalidOid;
  std::vector<AttrNumber> key_atts;
  std::vector<Oid> key_output;  // output functions of the key columns
  std::string table;            // schema-qualified, for notifications (a shard's: its distributed table's)
  // On a Citus shard: alerts go to the attachment's outbox (argument 13), into this node's
  // placement of it colocated with the shard, with the row's distribution column (argument 14).
  std::string outbox, distribution_column;
  bool shard = false;
  Oid outbox_placement = InvalidOid, owner = InvalidOid;
  AttrNumber distribution_att = 0;
  Oid history_relid = InvalidOid;  // where history is read: the table, or the attach option's relation
  FmgrInfo to_jsonb{};             // to_jsonb(row) for rules, typed for this row type
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

// The output columns' attribute numbers, each checked to exist with a type it can hold.
void PlanOutputColumns(TriggerTarget& t, TupleDesc desc) {
  t.flag_att = FindColumn(desc, t.flag_column, "flag");
  RequireType(desc, t.flag_att, {BOOLOID}, t.flag_column, "boolean");
  t.score_att = FindColumn(desc, t.score_column, "score");
  RequireType(desc, t.score_att, {FLOAT8OID, FLOAT4OID, NUMERICOID}, t.score_column,
              "double precision, real or numeric");
  t.score_type = TupleDescAttr(desc, t.score_att - 1)->atttypid;
  t.version_att = t.version_column.empty() ? 0 : FindColumn(desc, t.version_column, "version");
  if (t.version_att) {
    RequireType(desc, t.version_att, {INT4OID, INT8OID}, t.version_column, "integer or bigint");
    t.version_type = TupleDescAttr(desc, t.version_att - 1)->atttypid;
  }
  t.rules_att = t.rules_column.empty() ? 0 : FindColumn(desc, t.rules_column, "rules");
  if (t.rules_att) RequireType(desc, t.rules_att, {TEXTARRAYOID}, t.rules_column, "text[]");
  t.rule_errors_att = t.rule_errors_column.empty() ? 0 : FindColumn(desc, t.rule_errors_column, "rule errors");
  if (t.rule_errors_att) RequireType(desc, t.rule_errors_att, {TEXTARRAYOID}, t.rule_errors_column, "text[]");
  t.history_att = t.history_column.empty() ? 0 : FindColumn(desc, t.history_column, "history");
  if (t.history_att) RequireType(desc, t.history_att, {JSONBOID}, t.history_column, "jsonb");
}

// The table's name in alerts (a Citus shard: its distributed table's), its owner, and a
// shard's placement of the alert outbox. PostgreSQL code.
void PlanTableName(TriggerTarget& t, Relation rel) {
  t.table = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)), RelationGetRelationName(rel));
  ShardIdentity shard;
  t.shard = ShardOf(RelationGetRelid(rel), &shard);
  t.outbox_placement = InvalidOid;
  t.owner = rel->rd_rel->relowner;
  if (!t.shard) return;
  t.table = quote_qualified_identifier(get_namespace_name(get_rel_namespace(shard.table)), get_rel_name(shard.table));
  if (t.outbox.empty()) return;
  const Oid outbox =
      RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(t.outbox.c_str())), NoLock, true);
  if (OidIsValid(outbox)) t.outbox_placement = ColocatedPlacement(outbox, shard.shard);
}

// The primary key's columns and their output functions (the alert's row key). PostgreSQL code.
void PlanPrimaryKey(TriggerTarget& t, Relation rel) {
  t.key_atts.clear();
  t.key_output.clear();
  Oid pk = RelationGetPrimaryKeyIndex(rel);
  if (!OidIsValid(pk)) return;
  TupleDesc desc = RelationGetDescr(rel);
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

// to_jsonb of the table's row type, for the rules. PostgreSQL code.
void PlanToJsonb(TriggerTarget& t, TupleDesc desc) {
  MemoryContext old = MemoryContextSwitchTo(t.context);
  fmgr_info_cxt(F_TO_JSONB, &t.to_jsonb, t.context);
  FuncExpr* call = makeFuncExpr(F_TO_JSONB, JSONBOID, list_make1(makeNullConst(desc->tdtypeid, -1, InvalidOid)),
                                InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
  fmgr_info_set_expr(reinterpret_cast<Node*>(call), &t.to_jsonb);
  MemoryContextSwitchTo(old);
}

// (Re)builds the output plan for the relation's current shape.
void PlanOutputs(TriggerTarget& t, Relation rel) {
  TupleDesc desc = RelationGetDescr(rel);
  PlanOutputColumns(t, desc);
  PgCall([&] {
    PlanTableName(t, rel);
    PlanPrimaryKey(t, rel);
    PlanToJsonb(t, desc);
  });
  t.distribution_att =
      t.shard && !t.distribution_column.empty() ? FindColumn(desc, t.distribution_column, "distribution") : 0;
  t.history_relid = RelationGetRelid(rel);
  if (!t.history_relation.empty()) {
    t.history_relid = RelationByName(t.history_relation);
  }
  t.type = desc->tdtypeid;
  t.epoch = SchemaEpoch();
}

// The "columns" attach option, {"feature": "column", ...} as text ('' or '{}' for none).
ColumnNames ParseColumnNames(const std::string& text) {
  ColumnNames out;
  if (text.empty()) return out;
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_object()) throw Error(ErrorCode::kInvalidParameterValue, "the columns argument must be a JSON object");
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (!it.value().is_string())
      throw Error(ErrorCode::kInvalidParameterValue, "the columns argument maps features to column names");
    out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

TriggerTarget& TargetOf(const Trigger* trigger) {
  auto it = g_targets.find(trigger->tgoid);
  if (it != g_targets.end()) return *it->second;
  if (trigger->tgnargs < 3) {
    throw Error(ErrorCode::kInvalidParameterValue, "fraud_flag_trigger needs at least 3 arguments",
                "Arguments: model, flag column, score column[, version column, rules column, notify channel, "
                "history column, history relation, on_update, columns, on_error, rule errors column].");
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
  t->clear_on_update = Argument(trigger, 8) == "clear";
  t->columns = ParseColumnNames(Argument(trigger, 9));
  t->rule_errors_column = Argument(trigger, 11);
  t->outbox = Argument(trigger, 12);
  t->distribution_column = Argument(trigger, 13);
  t->context = PgCall([] { return AllocSetContextCreate(TopMemoryContext, "pg_fraud trigger", ALLOCSET_SMALL_SIZES); });
  t->reader.columns = &t->columns;
  TriggerTarget& ref = *t;
  g_targets[trigger->tgoid] = std::move(t);
  return ref;
}

// The notification payload: table, key, score, model, version and fired rules; no values.
char* Payload(TriggerTarget& t, HeapTuple tuple, TupleDesc desc, double score, int32 version,
              const std::vector<const char*>& fired) {
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
  if (std::isnan(score)) {
    appendStringInfoString(&buf, ", \"score\": null, \"model\": ");
  } else {
    appendStringInfo(&buf, ", \"score\": %.6f, \"model\": ", score);
  }
  escape_json(&buf, t.model->name.c_str());
  appendStringInfo(&buf, ", \"version\": %d, \"rules\": [", version);
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

// A data restore: pg_restore's own session (its application_name). Restored rows keep the
// verdicts they were dumped with: re-scoring would overwrite history with today's model, and a
// table restored before fraud_models would fail for want of a model. (A session running with
// session_replication_role = replica never fires the triggers at all.)
bool Restoring() { return application_name != nullptr && strcmp(application_name, "pg_restore") == 0; }

// Whether a restored row arrives with a verdict (flag or score set), which it then keeps.
bool CarriesVerdict(const TriggerTarget& t, HeapTuple tuple, TupleDesc desc) {
  return PgCall([&] { return !heap_attisnull(tuple, t.flag_att, desc) || !heap_attisnull(tuple, t.score_att, desc); });
}

// The attributes the model reads: its feature columns (as the row reader finds them) and
// its history columns.
const std::vector<AttrNumber>& InputAttributes(TriggerTarget& t, const Model& model, TupleDesc desc) {
  if (t.input_generation == t.generation && t.input_epoch == t.epoch && !t.input_atts.empty()) return t.input_atts;
  std::vector<ColumnPlan> plans(model.features.size());
  PlanColumns(model, desc, plans.data(), &t.columns);
  t.input_atts.clear();
  for (size_t i = 0; i < model.features.size(); ++i) {
    if (plans[i].attnum > 0) t.input_atts.push_back(plans[i].attnum);  // 0: computed from history
  }
  if (model.history) {
    const HistorySpec& h = *model.history;
    for (const std::vector<std::string>* list : {&h.by, &h.amounts, &h.distinct, &h.fresh}) {
      for (const std::string& name : *list) t.input_atts.push_back(ExactAttribute(desc, name));
    }
    t.input_atts.push_back(ExactAttribute(desc, h.time));
  }
  t.input_generation = t.generation;
  t.input_epoch = t.epoch;
  return t.input_atts;
}

// Whether an UPDATE changed a column the model reads (binary comparison: a value rewritten
// the same is unchanged; a different representation of an equal value counts as a change).
bool InputsChanged(TriggerTarget& t, const Model& model, HeapTuple old_tuple, HeapTuple new_tuple, TupleDesc desc) {
  const std::vector<AttrNumber>& atts = InputAttributes(t, model, desc);
  return PgCall([&] {
    for (AttrNumber att : atts) {
      if (att <= 0) return true;
      bool old_null, new_null;
      const Datum a = heap_getattr(old_tuple, att, desc, &old_null);
      const Datum b = heap_getattr(new_tuple, att, desc, &new_null);
      if (old_null != new_null) return true;
      const Form_pg_attribute form = TupleDescAttr(desc, att - 1);
      if (!old_null && !datumIsEqual(a, b, form->attbyval, form->attlen)) return true;
    }
    return false;
  });
}

// The row with these output columns (flag, score, version, rules, rule errors: at most 5, 0
// skipped) NULL. PostgreSQL code.
HeapTuple WithoutVerdict(HeapTuple tuple, TupleDesc desc, std::initializer_list<AttrNumber> atts) {
  int columns[5];
  Datum values[5] = {0, 0, 0, 0, 0};
  bool nulls[5] = {true, true, true, true, true};
  int n = 0;
  for (AttrNumber a : atts) {
    if (a > 0 && n < 5) columns[n++] = a;
  }
  return n == 0 ? tuple : heap_modify_tuple_by_cols(tuple, desc, n, columns, values, nulls);
}

// The target's active model, loaded again (with room for its feature values) when the model
// cache changed.
void EnsureModel(FunctionCallInfo fcinfo, TriggerTarget& t) {
  if (t.model != nullptr && t.generation == ModelCacheGeneration() && !ModelCacheStale()) return;
  t.model = &ActiveModel(fcinfo->flinfo->fn_oid, t.model_name);
  t.generation = ModelCacheGeneration();
  const size_t n = t.model->model.features.size();
  t.values = PgCall([&] {
    if (t.values != nullptr) pfree(t.values);
    return static_cast<FeatureValue*>(MemoryContextAllocZero(t.context, sizeof(FeatureValue) * (n + 1)));
  });
  t.reader.Reset(t.context, n);
}

// What the trigger writes into a row.
struct Verdict {
  bool flagged;
  double score;
  const std::vector<const char*>& fired;    // the rules that fired
  const std::vector<const char*>& errored;  // the rules that gave no verdict
};

// The row with its verdict in the target's output columns (and the history features, when the
// table has a column for them).
HeapTuple WithVerdict(TriggerTarget& t, HeapTuple tuple, TupleDesc desc, const Verdict& v) {
  const Model& model = t.model->model;
  return PgCall([&] {
    int columns[6];
    Datum values[6];
    bool nulls[6] = {false, false, false, false, false, false};
    auto names = [](const std::vector<const char*>& list) {
      Datum* items = static_cast<Datum*>(palloc(sizeof(Datum) * (list.size() + 1)));
      for (size_t i = 0; i < list.size(); ++i) items[i] = CStringGetTextDatum(list[i]);
      return PointerGetDatum(construct_array(items, static_cast<int>(list.size()), TEXTOID, -1, false, TYPALIGN_INT));
    };
    int n = 0;
    columns[n] = t.flag_att;
    values[n++] = BoolGetDatum(v.flagged);
    columns[n] = t.score_att;
    values[n++] = t.score_type == FLOAT8OID   ? Float8GetDatum(v.score)
                  : t.score_type == FLOAT4OID ? Float4GetDatum(static_cast<float4>(v.score))
                                              : DirectFunctionCall1(float8_numeric, Float8GetDatum(v.score));
    if (t.version_att) {
      columns[n] = t.version_att;
      values[n++] = t.version_type == INT8OID ? Int64GetDatum(t.model->version) : Int32GetDatum(t.model->version);
    }
    if (t.rules_att) {
      columns[n] = t.rules_att;
      values[n++] = names(v.fired);
    }
    if (t.rule_errors_att) {  // NULL when every rule gave a verdict
      columns[n] = t.rule_errors_att;
      nulls[n] = v.errored.empty();
      values[n++] = v.errored.empty() ? (Datum)0 : names(v.errored);
    }
    if (t.history_att) {
      columns[n] = t.history_att;
      nulls[n] = !model.history;
      values[n++] = model.history ? HistoryJsonb(model, t.values) : (Datum)0;
    }
    return t.reader.ModifiedTuple(tuple, desc, n, columns, values, nulls);
  });
}

// Scores and flags one new (or updated) row; returns the row to store.
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
  if (Restoring() && TRIGGER_FIRED_BY_INSERT(data->tg_event)) {
    if (t.epoch != SchemaEpoch() || t.type != desc->tdtypeid) PlanOutputs(t, rel);
    if (CarriesVerdict(t, tuple, desc)) return tuple;
  }

  EnsureModel(fcinfo, t);
  if (t.epoch != SchemaEpoch() || t.type != desc->tdtypeid) PlanOutputs(t, rel);

  const Model& model = t.model->model;
  if (TRIGGER_FIRED_BY_UPDATE(data->tg_event)) {
    if (!InputsChanged(t, model, data->tg_trigtuple, tuple, desc)) return tuple;
    if (t.clear_on_update) {  // on_update = 'clear': the verdict of the old values goes
      return PgCall([&] {
        return WithoutVerdict(tuple, desc, {t.flag_att, t.score_att, t.version_att, t.rules_att, t.rule_errors_att});
      });
    }
  }
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
  const double logit = t.model->model.Logit(t.values);
  const double score = Model::Sigmoid(logit);
  RuleVerdict rules;
  std::vector<const char*> fired, errored;
  if (!t.model->rules.empty()) {
    Jsonb* row =
        PgCall([&] { return DatumGetJsonbP(FunctionCall1(&t.to_jsonb, heap_copy_tuple_as_datum(tuple, desc))); });
    rules = EvaluateRules(*t.model, row, &fired, t.rule_errors_att ? &errored : nullptr);
  }
  const bool flagged = Flagged(t.model->model, logit, rules);

  return WithVerdict(t, tuple, desc, {flagged, score, fired, errored});
}

// The alert of a flagged row of a Citus shard. NOTIFY cannot reach the coordinator's listeners
// from a worker (and PostgreSQL refuses it in the prepared transactions of multi-shard
// writes), so the alert is queued in this node's placement of the attachment's outbox, in the
// row's transaction, as the table's owner; fraud_relay_alerts() on the coordinator deletes
// the queued alerts and sends their NOTIFYs in one distributed transaction.
void QueueAlert(const TriggerTarget& t, HeapTuple tuple, TupleDesc desc, const char* payload) {
  if (!OidIsValid(t.outbox_placement)) {
    throw Error(ErrorCode::kFeatureNotSupported,
                "a flagged row of distributed table " + t.table + " has no alert outbox on this node",
                "Alerts of a distributed table go through an outbox: run fraud_attach on the coordinator again after "
                "create_distributed_table, and fraud_relay_alerts() to send them.");
  }
  PgCall([&] {
    bool isnull = true;
    const Datum value = t.distribution_att ? heap_getattr(tuple, t.distribution_att, desc, &isnull) : (Datum)0;
    Oid saved_user;
    int saved_context;
    GetUserIdAndSecContext(&saved_user, &saved_context);
    SetUserIdAndSecContext(t.owner, saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
    const int nest = NewGUCNestLevel();  // the outbox placement is a shard: written as Citus's tasks write them
    (void)set_config_option("citus.enable_manual_changes_to_shards", "on", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                            true, 0, false);
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "pg_fraud: SPI_connect failed");
    const char* query = psprintf("INSERT INTO %s (distribution_value, channel, payload) VALUES ($1, $2, $3)",
                                 quote_qualified_identifier(get_namespace_name(get_rel_namespace(t.outbox_placement)),
                                                            get_rel_name(t.outbox_placement)));
    Oid types[3] = {t.distribution_att ? TupleDescAttr(desc, t.distribution_att - 1)->atttypid : TEXTOID, TEXTOID,
                    TEXTOID};
    Datum values[3] = {value, CStringGetTextDatum(t.channel.c_str()), CStringGetTextDatum(payload)};
    const char nulls[3] = {isnull ? 'n' : ' ', ' ', ' '};
    if (SPI_execute_with_args(query, 3, types, values, nulls, false, 0) != SPI_OK_INSERT)
      elog(ERROR, "pg_fraud: queuing an alert failed");
    SPI_finish();
    AtEOXact_GUC(true, nest);
    SetUserIdAndSecContext(saved_user, saved_context);
  });
}

// The NOTIFY of one stored flagged row (the trigger's WHEN clause tested the flag): its score,
// version and fired rules as stored (rules evaluated on the stored row when the table keeps
// no rules column).
void AlertRow(FunctionCallInfo fcinfo) {
  TriggerData* data = reinterpret_cast<TriggerData*>(fcinfo->context);
  if (!TRIGGER_FIRED_AFTER(data->tg_event) || !TRIGGER_FIRED_FOR_ROW(data->tg_event)) {
    throw Error(ErrorCode::kInvalidParameterValue, "fraud_alert_trigger must be an AFTER row trigger");
  }
  HeapTuple tuple = TRIGGER_FIRED_BY_UPDATE(data->tg_event) ? data->tg_newtuple : data->tg_trigtuple;
  Relation rel = data->tg_relation;
  TupleDesc desc = RelationGetDescr(rel);
  TriggerTarget& t = TargetOf(data->tg_trigger);
  if (t.channel.empty() || Restoring()) return;  // a restore replays rows, not new transactions
  if (t.model == nullptr || t.generation != ModelCacheGeneration() || ModelCacheStale()) {
    t.model = &ActiveModel(fcinfo->flinfo->fn_oid, t.model_name);
    t.generation = ModelCacheGeneration();
  }
  if (t.epoch != SchemaEpoch() || t.type != desc->tdtypeid) PlanOutputs(t, rel);
  bool flagged = false;
  double score = NAN;
  int32 version = t.model->version;
  std::vector<std::string> stored_rules;
  PgCall([&] {
    bool isnull;
    const Datum flag = heap_getattr(tuple, t.flag_att, desc, &isnull);
    flagged = !isnull && DatumGetBool(flag);
    const Datum stored = heap_getattr(tuple, t.score_att, desc, &isnull);
    if (!isnull) {
      score = t.score_type == FLOAT8OID   ? DatumGetFloat8(stored)
              : t.score_type == FLOAT4OID ? DatumGetFloat4(stored)
                                          : DatumGetFloat8(DirectFunctionCall1(numeric_float8, stored));
    }
    if (t.version_att) {
      const Datum v = heap_getattr(tuple, t.version_att, desc, &isnull);
      if (!isnull) version = t.version_type == INT8OID ? static_cast<int32>(DatumGetInt64(v)) : DatumGetInt32(v);
    }
    if (!t.rules_att) return;
    const Datum names = heap_getattr(tuple, t.rules_att, desc, &isnull);
    if (isnull) return;
    Datum* items;
    bool* item_nulls;
    int count = 0;
    deconstruct_array(DatumGetArrayTypeP(names), TEXTOID, -1, false, TYPALIGN_INT, &items, &item_nulls, &count);
    for (int i = 0; i < count; ++i) {
      if (!item_nulls[i]) stored_rules.emplace_back(TextDatumGetCString(items[i]));
    }
  });
  if (!flagged) return;
  std::vector<const char*> fired;
  for (const std::string& r : stored_rules) fired.push_back(r.c_str());
  if (!t.rules_att && !t.model->rules.empty()) {
    Jsonb* row =
        PgCall([&] { return DatumGetJsonbP(FunctionCall1(&t.to_jsonb, heap_copy_tuple_as_datum(tuple, desc))); });
    (void)EvaluateRules(*t.model, row, &fired);
  }
  if (t.shard) {
    QueueAlert(t, tuple, desc, PgCall([&] { return Payload(t, tuple, desc, score, version, fired); }));
    return;
  }
  PgCall([&] { Async_Notify(t.channel.c_str(), Payload(t, tuple, desc, score, version, fired)); });
}

}  // namespace
}  // namespace glue
}  // namespace pgfraud

namespace {

// on_error = 'null' (the trigger's 11th argument): a row that cannot be scored is stored
// unscored instead of failing its insert.
bool FailOpen(const Trigger* trigger) { return trigger->tgnargs > 10 && strcmp(trigger->tgargs[10], "null") == 0; }

// The row with its flag and score (and version, rules) NULL, by the trigger's column names;
// those missing (what made scoring fail, perhaps) are skipped.
HeapTuple Unscored(TriggerData* data, HeapTuple tuple) {
  TupleDesc desc = RelationGetDescr(data->tg_relation);
  const Trigger* trigger = data->tg_trigger;
  auto att = [&](int arg) -> AttrNumber {
    return arg < trigger->tgnargs ? pgfraud::glue::ExactAttribute(desc, trigger->tgargs[arg]) : 0;
  };
  return pgfraud::glue::WithoutVerdict(tuple, desc, {att(1), att(2), att(3), att(4), att(11)});
}

// Why a row was left unscored, in plain storage (no destructor: PostgreSQL code runs after it).
struct Failure {
  int sqlstate;
  char message[512];
};

// FlagRow, with any exception turned into `failure` (every C++ object it made destroyed
// before it returns); false when it failed.
bool TryFlagRow(FunctionCallInfo fcinfo, Datum* result, Failure* failure) noexcept {
  try {
    *result = PointerGetDatum(pgfraud::glue::FlagRow(fcinfo));
    return true;
  } catch (...) {
    failure->sqlstate = ERRCODE_INTERNAL_ERROR;
    strlcpy(failure->message, "unknown error", sizeof failure->message);
    try {
      const pgfraud::glue::ErrorSummary e = pgfraud::glue::Summarize(std::current_exception());
      failure->sqlstate = e.sqlstate;
      strlcpy(failure->message, e.message.c_str(), sizeof failure->message);
    } catch (...) {
    }
    return false;
  }
}

// Records one row left unscored: a WARNING and a row of fraud_scoring_failures (through a
// SECURITY DEFINER function of the extension, in the inserting transaction: a rolled-back
// insert leaves no record).
void RecordFailure(FunctionCallInfo fcinfo, TriggerData* data, const Failure& failure) {
  const char* table = RelationGetRelationName(data->tg_relation);
  ereport(WARNING, (errcode(failure.sqlstate),
                    errmsg("pg_fraud: a row of table \"%s\" was stored unscored: %s", table, failure.message),
                    errhint("The attachment's on_error is \"null\"; see the view fraud_scoring_failures_daily.")));
  const Oid schema = get_func_namespace(fcinfo->flinfo->fn_oid);
  const char* query =
      psprintf("SELECT %s.fraud_record_failure($1, $2, $3)", quote_identifier(get_namespace_name(schema)));
  Oid types[3] = {OIDOID, TEXTOID, TEXTOID};
  Datum values[3] = {ObjectIdGetDatum(RelationGetRelid(data->tg_relation)),
                     CStringGetTextDatum(unpack_sql_state(failure.sqlstate)), CStringGetTextDatum(failure.message)};
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "pg_fraud: SPI_connect failed");
  if (SPI_execute_with_args(query, 3, types, values, nullptr, false, 0) != SPI_OK_SELECT) {
    elog(ERROR, "pg_fraud: recording a scoring failure failed");
  }
  SPI_finish();
}

// fraud_flag_trigger under on_error = 'null': FlagRow in a subtransaction (as a PL/pgSQL
// EXCEPTION block runs its body), so that a failure anywhere in it is rolled back cleanly.
// No C++ object with a destructor lives in this frame.
Datum FlagRowFailOpen(FunctionCallInfo fcinfo) {
  TriggerData* data = reinterpret_cast<TriggerData*>(fcinfo->context);
  HeapTuple tuple = TRIGGER_FIRED_BY_UPDATE(data->tg_event) ? data->tg_newtuple : data->tg_trigtuple;
  MemoryContext context = CurrentMemoryContext;
  ResourceOwner owner = CurrentResourceOwner;
  BeginInternalSubTransaction(nullptr);
  MemoryContextSwitchTo(context);  // the row returned outlives the subtransaction
  Datum result = (Datum)0;
  Failure failure;
  const bool scored = TryFlagRow(fcinfo, &result, &failure);
  if (scored) {
    ReleaseCurrentSubTransaction();
  } else {
    RollbackAndReleaseCurrentSubTransaction();
  }
  MemoryContextSwitchTo(context);
  CurrentResourceOwner = owner;
  if (scored) return result;
  RecordFailure(fcinfo, data, failure);
  return PointerGetDatum(Unscored(data, tuple));
}

// "pg_fraud trigger <name> on table <table>" in the CONTEXT of any error raised while the
// trigger runs (the messages themselves name only the feature or column, never a value).
void TriggerContext(void* arg) {
  const TriggerData* data = static_cast<const TriggerData*>(arg);
  errcontext("pg_fraud trigger \"%s\" on table \"%s.%s\"", data->tg_trigger->tgname,
             get_namespace_name(RelationGetNamespace(data->tg_relation)), RelationGetRelationName(data->tg_relation));
}

ErrorContextCallback TriggerErrorContext(FunctionCallInfo fcinfo) {
  ErrorContextCallback context;
  context.callback = TriggerContext;
  context.arg = fcinfo->context;
  context.previous = error_context_stack;
  return context;
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(fraud_flag_trigger);
// Trigger: writes the score and the flag of each new row (see the file comment).
Datum fraud_flag_trigger(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo)) {
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("fraud_flag_trigger must be called as a trigger")));
  }
  ErrorContextCallback context = TriggerErrorContext(fcinfo);
  error_context_stack = &context;
  if (FailOpen(reinterpret_cast<TriggerData*>(fcinfo->context)->tg_trigger)) {
    const Datum result = FlagRowFailOpen(fcinfo);
    error_context_stack = context.previous;
    return result;
  }
  const Datum result = pgfraud::glue::Guard([&] { return PointerGetDatum(pgfraud::glue::FlagRow(fcinfo)); });
  error_context_stack = context.previous;
  return result;
}

PG_FUNCTION_INFO_V1(fraud_alert_trigger);
// Trigger: the NOTIFY of a stored flagged row (see the file comment).
Datum fraud_alert_trigger(PG_FUNCTION_ARGS) {
  if (!CALLED_AS_TRIGGER(fcinfo)) {
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("fraud_alert_trigger must be called as a trigger")));
  }
  ErrorContextCallback context = TriggerErrorContext(fcinfo);
  error_context_stack = &context;
  pgfraud::glue::Guard([&] {
    pgfraud::glue::AlertRow(fcinfo);
    return (Datum)0;
  });
  error_context_stack = context.previous;
  return PointerGetDatum(nullptr);
}

PG_FUNCTION_INFO_V1(fraud_check_columns);
// fraud_check_columns(tab, model, columns): the error an insert into tab would raise when one
// of its columns cannot be read as its feature of the model's active version (fraud_attach).
Datum fraud_check_columns(PG_FUNCTION_ARGS) {
  const Oid relid = PG_GETARG_OID(0);
  std::string_view name(VARDATA_ANY(PG_GETARG_TEXT_PP(1)), VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(1)));
  Jsonb* mapping = PG_GETARG_JSONB_P(2);
  const char* mapping_text = JsonbToCString(nullptr, &mapping->root, VARSIZE(mapping));
  Relation rel = table_open(relid, AccessShareLock);
  TupleDesc desc = CreateTupleDescCopy(RelationGetDescr(rel));
  table_close(rel, AccessShareLock);
  pgfraud::glue::Guard([&] {
    const pgfraud::Model& model = pgfraud::glue::ActiveModel(fcinfo->flinfo->fn_oid, name).model;
    const pgfraud::glue::ColumnNames columns = pgfraud::glue::ParseColumnNames(mapping_text);
    std::vector<pgfraud::glue::ColumnPlan> plans(model.features.size());
    pgfraud::glue::PlanColumns(model, desc, plans.data(), &columns);
    return (Datum)0;
  });
  PG_RETURN_VOID();
}

}  // extern "C"
