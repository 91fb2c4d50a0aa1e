// train_fraud_model: reads the source's columns, plans the training passes and runs them
// through SpiRunner (training/spi_runner.hpp: SPI queries of the fraud_train_pass aggregate,
// as the caller, so privileges and row-level security apply), records the holdout's metrics,
// and stores the model through fraud_import_model in the caller's transaction.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "guard.hpp"
#include "history/history_sql.hpp"
#include "history/history_training.hpp"
#include "model/model_document.hpp"
#include "training/held_out_rows.hpp"
#include "training/spi_runner.hpp"
#include "citus/citus_catalog.hpp"
#include "training/distributed_source.hpp"
#include "training/table_scan.hpp"
#include "linear/trainer.hpp"
#include "trees/tree_training.hpp"
#include "values/time_zones.hpp"

namespace pgfraud {
namespace glue {
namespace {

// What the source table offers: its qualified name and usable columns.
struct Source {
  std::string qualified_name;
  std::vector<TrainingColumn> columns;
  std::vector<std::string> skipped;      // columns of types training cannot use
  std::vector<std::string> identifiers;  // numeric features whose names say they are identifiers
};

// Whether a column's name says it identifies something rather than measures it (id,
// account_id, policy_number, insured_zip, ...): used as a number it is a silent leak or noise.
bool LooksLikeIdentifier(const std::string& name) {
  std::string n;
  for (char c : name) n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto ends = [&](const char* suffix) {
    const size_t k = std::strlen(suffix);
    return n.size() >= k && n.compare(n.size() - k, k, suffix) == 0;
  };
  return n == "id" || n == "zip" || ends("_id") || ends("_number") || ends("_no") || ends("_zip") || ends("_key") ||
         ends("uuid");
}

bool IsLabelType(Oid type) {
  return type == BOOLOID || type == INT2OID || type == INT4OID || type == INT8OID || type == NUMERICOID ||
         type == FLOAT4OID || type == FLOAT8OID || type == TEXTOID || type == VARCHAROID || type == BPCHAROID;
}

// The column kind a SQL type gives, or false when training cannot use the type.
bool KindOfType(Oid type, ColumnKind* kind) {
  switch (type) {
    case INT2OID:
    case INT4OID:
    case INT8OID:
    case NUMERICOID:
    case FLOAT4OID:
    case FLOAT8OID: *kind = ColumnKind::kNumeric; return true;
    case BOOLOID: *kind = ColumnKind::kBoolean; return true;
    case TEXTOID:
    case VARCHAROID:
    case BPCHAROID:
    case NAMEOID: *kind = ColumnKind::kCategorical; return true;
    case TIMESTAMPOID:
    case TIMESTAMPTZOID: *kind = ColumnKind::kTimestamp; return true;
    case DATEOID: *kind = ColumnKind::kDate; return true;
    default:
      if (type_is_enum(type)) {
        *kind = ColumnKind::kCategorical;
        return true;
      }
      return false;
  }
}

bool Contains(const std::vector<std::string>& names, const char* name) {
  for (const std::string& n : names) {
    if (n == name) return true;
  }
  return false;
}

// A column of the source: its name and base type.
struct Attribute {
  std::string name;
  Oid type;
};

// The source's qualified name and columns; fails unless it is a table, a view or a
// materialized view.
std::vector<Attribute> SourceAttributes(Oid relid, Source* source) {
  std::vector<Attribute> attributes;
  char relkind = 0;
  PgCall([&] {
    relkind = get_rel_relkind(relid);
    source->qualified_name =
        quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
    TupleDesc desc = lookup_rowtype_tupdesc(get_rel_type_id(relid), -1);
    for (int i = 0; i < desc->natts; ++i) {
      Form_pg_attribute att = TupleDescAttr(desc, i);
      if (!att->attisdropped) attributes.push_back({NameStr(att->attname), getBaseType(att->atttypid)});
    }
    ReleaseTupleDesc(desc);
  });
  if (relkind != RELKIND_RELATION && relkind != RELKIND_VIEW && relkind != RELKIND_MATVIEW &&
      relkind != RELKIND_PARTITIONED_TABLE && relkind != RELKIND_FOREIGN_TABLE) {
    throw Error(ErrorCode::kDatatypeMismatch, "source must be a table, a view or a materialized view");
  }
  return attributes;
}

const Attribute* FindAttribute(const std::vector<Attribute>& attributes, const std::string& name) {
  for (const Attribute& a : attributes) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

// Fails unless the label, the holdout column and every column the options name exist and fit.
void CheckNamedColumns(const std::vector<Attribute>& attributes, const std::string& label,
                       const TrainingOptions& options) {
  const Attribute* label_attribute = FindAttribute(attributes, label);
  if (label_attribute == nullptr) {
    throw Error(ErrorCode::kUndefinedColumn, "label column \"" + label + "\" does not exist in the source",
                "Name the label column in the second argument, e.g. train_fraud_model('tx', 'is_fraud').");
  }
  if (!IsLabelType(label_attribute->type)) {
    throw Error(ErrorCode::kDatatypeMismatch, "label column \"" + label + "\" has a type that cannot be a label",
                "A label is boolean, an integer 0/1, or text such as Y/N, yes/no, true/false.");
  }
  if (!options.holdout_column.empty()) {
    const std::string& h = options.holdout_column;
    const Attribute* held = FindAttribute(attributes, h);
    if (held == nullptr)
      throw Error(ErrorCode::kUndefinedColumn, "holdout column \"" + h + "\" does not exist in the source");
    if (held->type != BOOLOID) {
      throw Error(ErrorCode::kDatatypeMismatch, "holdout column \"" + h + "\" is not boolean",
                  "True marks a held-out row; NULL and false rows are trained on.");
    }
    if (h == label || Contains(options.features, h.c_str())) {
      throw Error(ErrorCode::kInvalidParameterValue, "the holdout column cannot be the label or a feature");
    }
  }
  for (const std::string& excluded : options.exclude) {
    if (FindAttribute(attributes, excluded) == nullptr) {
      throw Error(ErrorCode::kUndefinedColumn, "excluded column \"" + excluded + "\" does not exist in the source",
                  "Each \"exclude\" entry names a column of the source, exactly (case-sensitive).");
    }
    if (Contains(options.features, excluded.c_str())) {
      throw Error(ErrorCode::kInvalidParameterValue,
                  "column \"" + excluded + "\" is both in \"features\" and in \"exclude\"");
    }
  }
  for (const std::string& wanted : options.features) {
    if (FindAttribute(attributes, wanted) == nullptr)
      throw Error(ErrorCode::kUndefinedColumn, "feature column \"" + wanted + "\" does not exist in the source");
    if (wanted == label) throw Error(ErrorCode::kInvalidParameterValue, "the label column cannot be a feature");
  }
}

// Reads the source relation's columns and checks the label and the requested features.
Source DescribeSource(Oid relid, const std::string& label, const TrainingOptions& options) {
  Source source;
  const std::vector<Attribute> attributes = SourceAttributes(relid, &source);
  CheckNamedColumns(attributes, label, options);
  for (const Attribute& a : attributes) {
    if (a.name == label || a.name == options.holdout_column || Contains(options.exclude, a.name.c_str())) continue;
    const bool listed = Contains(options.features, a.name.c_str());
    if (!options.features.empty() && !listed) continue;
    ColumnKind kind;
    bool usable = false;
    PgCall([&] { usable = KindOfType(a.type, &kind); });
    if (!usable) {
      if (listed) {
        throw Error(ErrorCode::kDatatypeMismatch, "feature column \"" + a.name + "\" has a type training cannot use",
                    "Features are numbers, text, enums, booleans, timestamps and dates.");
      }
      source.skipped.push_back(a.name);
      continue;
    }
    if (kind == ColumnKind::kNumeric && !listed && LooksLikeIdentifier(a.name)) source.identifiers.push_back(a.name);
    source.columns.push_back({a.name, kind});
  }
  return source;
}

// The query of one pass: the aggregate over the columns the reading model reads (a timestamp
// twice: hour and weekday), or over whole rows when they are more than a call's arguments.
// The whole-row aggregate also serves an installation still at 0.1.0 (library updated,
// ALTER EXTENSION UPDATE not yet run), which has no fraud_train_columns.
// The pass query. With `positions` (a table read whole, held out by row position), each row's
// tuple id follows its values; *positions says whether the query passes it (a source too wide
// for the columns aggregate is passed as whole rows, without). A non-empty *marker (a boolean
// expression over t: the row is held out) follows the values likewise, or is emptied.
std::string PassQuery(Oid schema_oid, const std::string& schema, const Source& source, const std::string& label,
                      bool* positions, std::string* marker = nullptr) {
  constexpr size_t kMaxColumnArguments = FUNC_MAX_ARGS - 2;  // the state and the spec come first
  const Model reading = ReadingModel(source.columns, label);
  const bool has_columns_aggregate = PgCall([schema_oid] {
    Oid types[2] = {TEXTOID, ANYOID};
    oidvector* arguments = buildoidvector(types, 2);
    return SearchSysCacheExists3(PROCNAMEARGSNSP, CStringGetDatum("fraud_train_columns"), PointerGetDatum(arguments),
                                 ObjectIdGetDatum(schema_oid));
  });
  const size_t trailing = (*positions ? 1 : 0) + (marker != nullptr && !marker->empty() ? 1 : 0);
  if (!has_columns_aggregate || reading.features.size() + trailing > kMaxColumnArguments) {
    *positions = false;
    if (marker != nullptr) marker->clear();
    return "SELECT " + schema + ".fraud_train_pass(t, $1) FROM " + source.qualified_name + " AS t";
  }
  std::string arguments;
  for (const Feature& f : reading.features) {
    arguments += ", t." + PgCall([&] { return std::string(quote_identifier(f.name.c_str())); });
  }
  if (*positions) arguments += ", t.ctid";
  if (marker != nullptr && !marker->empty()) arguments += ", " + *marker;
  return "SELECT " + schema + ".fraud_train_columns($1" + arguments + ") FROM " + source.qualified_name + " AS t";
}

// The query of a pass read row by row (SpiRunner::Stream): the columns the reading model
// reads, in its order, then the tuple id with `positions`.
std::string StreamQuery(const Source& source, const std::string& label, bool positions) {
  const Model reading = ReadingModel(source.columns, label);
  std::string columns;
  for (const Feature& f : reading.features) {
    columns +=
        (columns.empty() ? "t." : ", t.") + PgCall([&] { return std::string(quote_identifier(f.name.c_str())); });
  }
  if (positions) columns += ", t.ctid";
  return "SELECT " + columns + " FROM " + source.qualified_name + " AS t";
}

// pg_class.reltuples of a table, materialized view or partitioned table; 0 when unknown.
double EstimatedRows(Oid relid) {
  return PgCall([relid] {
    double rows = 0.0;
    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
    if (HeapTupleIsValid(tuple)) {
      const auto* form = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple));
      if (form->reltuples > 0) rows = form->reltuples;
      ReleaseSysCache(tuple);
    }
    return rows;
  });
}

// Fails with 42501 unless the caller may SELECT the source; locks it (AccessShareLock, to the
// end of the transaction) so that a concurrent DROP waits for training.
void CheckCanRead(Oid relid) {
  PgCall([relid] {
    LockRelationOid(relid, AccessShareLock);
    if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid))) {
      ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("source relation was dropped")));
    }
    Oid user = GetUserId();
    if (pg_class_aclcheck(relid, user, ACL_SELECT) != ACLCHECK_OK &&
        pg_attribute_aclcheck_all(relid, user, ACL_SELECT, ACLMASK_ALL) != ACLCHECK_OK) {
      aclcheck_error(ACLCHECK_NO_PRIV, get_relkind_objtype(get_rel_relkind(relid)), get_rel_name(relid));
    }
  });
}

// Training reads the featurised query instead of the table: the history columns join the
// features, the entity columns leave them (identifiers, unless the features option names
// them), and a time holdout replaces the hash holdout.
void ReadThroughHistory(const HistoryPlan& history, const TrainingOptions& options, Source* source,
                        TrainingOptions* train_options) {
  auto& cols = source->columns;
  cols.erase(std::remove_if(cols.begin(), cols.end(),
                            [&](const TrainingColumn& c) {
                              return Contains(history.spec.by, c.name.c_str()) &&
                                     !Contains(options.features, c.name.c_str());
                            }),
             cols.end());
  cols.insert(cols.end(), history.columns.begin(), history.columns.end());
  source->qualified_name = history.training_from;
  if (history.by_time) train_options->holdout = 0;  // held out by time instead (RecordTimeHoldout)
}

// Says in the metrics and the training record that the metrics are the held-out rows':
// `by` ("time" or "column") and its detail (key and text), and where the threshold was chosen.
void LabelHeldOut(const std::string& by, const std::string& key, const std::string& detail,
                  const std::string& chosen_on, TrainingResult* result) {
  nlohmann::json& metrics = result->model.metrics;
  metrics["in_sample"] = false;
  metrics["holdout_by"] = by;
  metrics[key] = detail;
  metrics["threshold_chosen_on"] = chosen_on;
  result->training["holdout_by"] = by;
  result->training[key] = detail;
}

// Replaces the in-sample metrics of a model trained without its held-out rows by theirs
// (LabelHeldOut); `which` says which rows they are in the progress line.
void RecordHeldOut(const Metrics& m, double rows, const std::string& by, const std::string& key,
                   const std::string& detail, const std::string& which, const std::string& chosen_on,
                   PassRunner& runner, TrainingResult* result) {
  runner.Progress("holdout by " + by + " (" + which + "): " + std::to_string(static_cast<int64_t>(rows)) + " rows" +
                  (m.roc_auc ? ", ROC AUC " + std::to_string(*m.roc_auc).substr(0, 6) : std::string()));
  nlohmann::json metrics = m.ToJson();
  if (result->model.metrics.contains("threshold_strategy")) {
    metrics["threshold_strategy"] = result->model.metrics["threshold_strategy"];
  }
  result->model.metrics = metrics;
  LabelHeldOut(by, key, detail, chosen_on, result);
  result->training["holdout_rows"] = static_cast<int64_t>(rows);
  result->training["holdout_positives"] = static_cast<int64_t>(m.positives);  // not the stats' (no row held out there)
  if (rows == 0) {
    result->notices.push_back("the holdout has no labelled row: the metrics are undefined (NULL)");
    result->training["notices"] = result->notices;
    runner.Progress(result->notices.back());
  }
}

// The metrics of a time holdout: from the latest rows, evaluated after training.
void RecordTimeHoldout(const HistoryPlan& history, const std::string& label, PassRunner& runner,
                       TrainingResult* result) {
  double rows = 0;
  const Metrics m = EvaluateHeldOut(history, result->model, label, &rows);
  RecordHeldOut(m, rows, "time", "holdout_from", history.cutoff_text, "rows from " + history.cutoff_text,
                "training rows (before holdout_from)", runner, result);
}

// A time holdout whose rows were marked in the training passes (TimeMarker): the trainer's
// metrics are the held-out rows' already. With none held out they are in-sample, so the
// evaluation after training gives the defined empty result instead.
void MarkTimeHoldout(const HistoryPlan& history, const std::string& label, PassRunner& runner, TrainingResult* result) {
  const int64_t rows = result->training.value("holdout_rows", int64_t{0});
  if (rows == 0) return RecordTimeHoldout(history, label, runner, result);
  runner.Progress("holdout by time (rows from " + history.cutoff_text + "): " + std::to_string(rows) +
                  " rows, read with the training rows");
  LabelHeldOut("time", "holdout_from", history.cutoff_text, "training rows (before holdout_from)", result);
}

// Whether a row of the featurised query is in the time holdout (at or after the cutoff).
std::string TimeMarker(const HistoryPlan& history) {
  return "COALESCE(" + MicrosExpr("t." + Ident(history.spec.time)) + " OPERATOR(pg_catalog.>=) " +
         std::to_string(history.cutoff) + ", false)";
}

// The "log1p" option: each named numeric feature column (history features included) is read
// as sign(x) * log1p(|x|).
void ApplyLog1p(const TrainingOptions& options, Source* source) {
  for (const std::string& name : options.log1p) {
    auto it = std::find_if(source->columns.begin(), source->columns.end(),
                           [&](const TrainingColumn& c) { return c.name == name; });
    if (it == source->columns.end()) {
      throw Error(ErrorCode::kUndefinedColumn, "\"log1p\" column \"" + name + "\" is not a feature column",
                  "Name numeric feature columns (or history features) of the source, exactly.");
    }
    if (it->kind != ColumnKind::kNumeric && it->kind != ColumnKind::kNumericLog1p) {
      throw Error(ErrorCode::kInvalidParameterValue, "\"log1p\" column \"" + name + "\" is not numeric");
    }
    it->kind = ColumnKind::kNumericLog1p;
  }
}

// A holdout column: training reads the rows it does not mark, and the metrics come from the
// rows it marks (RecordColumnHoldout). Returns the FROM item of the held-out rows.
std::string ReadAroundHoldoutColumn(const TrainingOptions& options, Source* source, TrainingOptions* train_options) {
  const std::string column = "h." + Ident(options.holdout_column);
  const std::string from = source->qualified_name;
  source->qualified_name = "(SELECT * FROM " + from + " AS h WHERE " + column + " IS NOT TRUE)";
  train_options->holdout = 0;
  return "(SELECT * FROM " + from + " AS h WHERE " + column + " IS TRUE)";
}

// The metrics of the rows a holdout column marks.
void RecordColumnHoldout(const std::string& held_out, const TrainingOptions& options, const std::string& label,
                         PassRunner& runner, TrainingResult* result) {
  double rows = 0;
  const Metrics m = EvaluateRows(held_out, result->model, label, &rows);
  RecordHeldOut(m, rows, "column", "holdout_column", options.holdout_column,
                "rows where \"" + options.holdout_column + "\" is true", "training rows (holdout_column not true)",
                runner, result);
}

// train_fraud_model's arguments, read and checked.
struct TrainArguments {
  Oid relid = InvalidOid;
  std::string label, model_name;
  TrainingOptions options;
};

TrainArguments ReadArguments(FunctionCallInfo fcinfo) {
  for (int i = 0; i < 4; ++i) {
    if (PG_ARGISNULL(i)) throw Error(ErrorCode::kInvalidParameterValue, "train_fraud_model arguments must not be null");
  }
  TrainArguments a;
  a.relid = PG_GETARG_OID(0);
  a.label = NameStr(*PG_GETARG_NAME(1));
  a.model_name = PgCall([&] { return std::string(text_to_cstring(PG_GETARG_TEXT_PP(2))); });
  if (a.model_name.empty()) throw Error(ErrorCode::kInvalidParameterValue, "model name must not be empty");
  // Detoasting may ereport; std::strings are alive here, so it goes through PgCall too.
  const std::string options_text = PgCall([&] {
    Jsonb* options_jsonb = PG_GETARG_JSONB_P(3);
    return std::string(JsonbToCString(nullptr, &options_jsonb->root, VARSIZE(options_jsonb)));
  });
  a.options = ParseTrainingOptions(nlohmann::json::parse(options_text));
  return a;
}

// The time_zone option is the session's TimeZone for the whole training (parallel workers
// inherit it), as a function's SET clause does. Returns the GUC nest level that StoreModel
// closes, undoing it.
int EnterTimeZone(const TrainingOptions& options) {
  return PgCall([&] {
    const int level = NewGUCNestLevel();
    if (!options.time_zone.empty()) {
      (void)set_config_option("TimeZone", options.time_zone.c_str(), PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true,
                              0, false);
    }
    return level;
  });
}

// A NOTICE for each column left out and each numeric column named like an identifier (a
// history entity excepted: ReadThroughHistory takes it out of the features). Returns the
// identifiers, for the training record.
std::vector<std::string> AnnounceColumns(const Source& source, const TrainingOptions& options) {
  for (const std::string& name : source.skipped) {
    PgCall([&] {
      ereport(NOTICE, (errmsg("train_fraud_model: column \"%s\" has a type training cannot use and is left out",
                              name.c_str())));
    });
  }
  const nlohmann::json& by =
      options.history.is_object() ? options.history.value("by", nlohmann::json()) : nlohmann::json();
  std::vector<std::string> identifiers;
  for (const std::string& name : source.identifiers) {
    if ((by.is_string() && by == name) || (by.is_array() && std::find(by.begin(), by.end(), name) != by.end()))
      continue;
    identifiers.push_back(name);
    PgCall([&] {
      ereport(
          NOTICE,
          (errmsg("train_fraud_model: column \"%s\" looks like an identifier and is used as a number", name.c_str()),
           errhint("Leave it out with {\"exclude\": [\"%s\"]}, or name it in \"features\" to keep it.", name.c_str())));
    });
  }
  if (source.columns.empty()) {
    throw Error(ErrorCode::kDataException, "no usable feature columns",
                "Features are numbers, text, enums, booleans, timestamps and dates other than the label.");
  }
  return identifiers;
}

// How the training passes read the source: the query each pass runs, and where its holdout is.
struct PassPlan {
  std::optional<HistoryPlan> history;
  TrainingOptions train_options;  // the options as the trainer sees them (holdouts moved out)
  std::string held_out;           // the holdout column's rows (FROM item), or empty
  bool by_column = false;         // held out by a column
  bool positions = false;         // the exact holdout by row position (tuple ids read)
  bool shards = false;            // each pass on a Citus table's shards, on the workers
  std::string query;
};

// A Citus table's pass: each node runs the pass over its shards (with history, over the
// featurising query of each shard).
std::string ShardQuery(Oid schema_oid, const std::string& schema, Oid relid, const Source& source,
                       const std::string& label, const std::optional<HistoryPlan>& history) {
  const std::string relation = "\x01shard\x01";  // where a node's shards go
  Source shard = source;
  shard.qualified_name =
      history ? HistoryTrainingFrom(*history, FeaturisingQuery(schema, relation, history->spec)) : relation;
  bool no_positions = false;
  const std::string per_node = PassQuery(schema_oid, schema, shard, label, &no_positions);
  return ShardPassQuery(schema, relid, NodeTemplate(per_node, "$1", relation));
}

// Plans the passes over `source` (SPI connected): history features, log1p, the holdout, Citus.
PassPlan PlanPasses(const TrainArguments& args, Oid schema_oid, const std::string& schema, Source* source) {
  const TrainingOptions& options = args.options;
  const Oid relid = args.relid;
  PassPlan p;
  p.train_options = options;
  if (!options.history.is_null()) {
    p.history = PlanHistoryTraining(relid, source->qualified_name, schema, args.label, options);
    ReadThroughHistory(*p.history, options, source, &p.train_options);
  }
  const std::optional<HistoryPlan>& history = p.history;
  ApplyLog1p(options, source);
  p.by_column = !options.holdout_column.empty();
  if (p.by_column) p.held_out = ReadAroundHoldoutColumn(options, source, &p.train_options);
  // The exact holdout by row position needs the table itself, read whole by this user.
  p.positions = !history && !p.by_column && CanScanDirectly(relid);
  // A Citus table: each pass on its shards, on the workers; with history features only when
  // every entity's history is on one shard (else Citus gathers the featurising query's rows).
  p.shards = !p.by_column &&
             PgCall([&] { return IsCitusTable(relid) && (!history || HistoryIsShardLocal(relid, history->spec.by)); });
  if (p.shards) {
    p.query = ShardQuery(schema_oid, schema, relid, *source, args.label, history);
    return p;
  }
  // A time holdout read in the same passes, each row marked with its side; else (trees, a
  // source too wide for the columns aggregate) the training rows are read alone and the
  // held-out ones evaluated after (RecordTimeHoldout).
  const bool mark = history && history->by_time && !options.boosting;
  std::string marker = mark ? TimeMarker(*history) : "";
  if (mark) source->qualified_name = "(" + history->featurised + ")";  // every row, marked
  p.query = PassQuery(schema_oid, schema, *source, args.label, &p.positions, &marker);
  p.train_options.marked_holdout = !marker.empty();
  if (mark && marker.empty()) {  // too wide to be marked: the training rows alone
    source->qualified_name = history->training_from;
    p.query = PassQuery(schema_oid, schema, *source, args.label, &p.positions);
  }
  return p;
}

// The holdouts' metrics and the training record's figures after training.
void RecordAfterTraining(const PassPlan& p, const TrainArguments& args, SpiRunner& runner, TrainingResult* result) {
  if (p.shards) {
    result->training["distributed"] = {{"passes_over_shards", runner.ShardBytes().size()},
                                       {"bytes_received_per_pass", runner.ShardBytes()},
                                       {"estimated_rows", runner.EstimatedRows()}};
  }
  if (p.by_column) RecordColumnHoldout(p.held_out, args.options, args.label, runner, result);
  if (!p.history) return;
  AdoptHistory(*p.history, &result->model);
  result->training["history_features"] = p.history->columns.size();
  if (p.train_options.marked_holdout) {
    MarkTimeHoldout(*p.history, args.label, runner, result);
  } else if (p.history->by_time) {
    RecordTimeHoldout(*p.history, args.label, runner, result);
  }
}

// Stores the model through fraud_import_model, closes SPI and undoes the time_zone option;
// returns the stored fraud_models row.
Datum StoreModel(const std::string& schema, const TrainArguments& args, const Model& model, int zone_level) {
  const std::string document = ModelToJson(model).dump();
  const std::string insert = "SELECT * FROM " + schema + ".fraud_import_model($1::jsonb, $2, $3)";
  return PgCall([&] {
    Oid types[3] = {TEXTOID, TEXTOID, BOOLOID};
    Datum values[3] = {CStringGetTextDatum(document.c_str()), CStringGetTextDatum(args.model_name.c_str()),
                       BoolGetDatum(args.options.activate)};
    if (SPI_execute_with_args(insert.c_str(), 3, types, values, nullptr, false, 1) != SPI_OK_SELECT ||
        SPI_processed != 1) {
      elog(ERROR, "pg_fraud: storing the model failed");
    }
    Datum row = PointerGetDatum(SPI_returntuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc));
    SPI_finish();
    AtEOXact_GUC(true, zone_level);
    return row;
  });
}

// Trains and stores; returns the stored fraud_models row.
Datum TrainFraudModel(FunctionCallInfo fcinfo) {
  const TrainArguments args = ReadArguments(fcinfo);
  const TrainingOptions& options = args.options;
  // Privileges first: nothing about the source is revealed to a caller who may not read it.
  CheckCanRead(args.relid);
  const int zone_level = EnterTimeZone(options);
  const std::string zone = SessionZoneName();
  Source source = DescribeSource(args.relid, args.label, options);
  const std::vector<std::string> identifiers = AnnounceColumns(source, options);
  const Oid schema_oid = PgCall([&] { return get_func_namespace(fcinfo->flinfo->fn_oid); });
  const std::string schema = PgCall([&] { return std::string(quote_identifier(get_namespace_name(schema_oid))); });
  PgCall([] {
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "pg_fraud: SPI_connect failed");
  });
  const std::string source_name = source.qualified_name;
  const PassPlan plan = PlanPasses(args, schema_oid, schema, &source);
  SpiRunner runner(plan.query, plan.shards ? ShardRowEstimate(schema, args.relid) : EstimatedRows(args.relid),
                   args.relid, args.label, !plan.history && !plan.by_column && !plan.shards, plan.positions,
                   plan.shards);
  // Trees read the rows through a cursor here (over a Citus table too: the rows come to
  // this node; docs/trees.md).
  runner.SetStreamQuery(StreamQuery(source, args.label, plan.positions), plan.positions);
  TrainingResult result = options.boosting ? TrainTrees(source.columns, args.label, plan.train_options, runner)
                                           : Train(source.columns, args.label, plan.train_options, runner);
  RecordAfterTraining(plan, args, runner, &result);
  result.training["source"] = source_name;
  result.training["skipped_columns"] = source.skipped;
  result.training["identifier_columns"] = identifiers;  // numeric features named like identifiers
  result.model.training = result.training;
  // Hours and weekdays were read in this zone, and are scored in it whatever the session's.
  for (const Feature& f : result.model.features) {
    if (f.kind == FeatureKind::kHourOfDay || f.kind == FeatureKind::kDayOfWeek) result.model.time_zone = zone;
  }
  return StoreModel(schema, args, result.model, zone_level);
}

}  // namespace
}  // namespace glue
}  // namespace pgfraud

extern "C" {

PG_FUNCTION_INFO_V1(train_fraud_model);
// train_fraud_model(source regclass, label name, model text, options jsonb) RETURNS fraud_models
Datum train_fraud_model(PG_FUNCTION_ARGS) {
  return pgfraud::glue::Guard([&] { return pgfraud::glue::TrainFraudModel(fcinfo); });
}

}  // extern "C"
