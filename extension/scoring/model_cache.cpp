// Model cache: loads active models and their rules by direct scans (no privilege is needed
// to score), and is flushed by a relcache callback that the statement triggers on
// fraud_models and fraud_rules fire, delivered at commit to every backend.
#include "scoring/model_cache.hpp"

#include <algorithm>
#include <memory>
#include <unordered_map>

#include "common/errors.hpp"
#include "values/time_zones.hpp"
#include "guard.hpp"
#include "values/jsonb_values.hpp"
#include "model/model_document.hpp"
#include "citus/citus_catalog.hpp"

namespace pgfraud {
namespace glue {
namespace {

std::unordered_map<std::string, std::unique_ptr<CachedModel>> g_models;
MemoryContext g_cache_context = nullptr;  // rule jsonpaths; reset with every flush
uint64_t g_generation = 1;
uint64_t g_schema_epoch = 1;
bool g_stale = false;
Oid g_models_relid = InvalidOid;
Oid g_rules_relid = InvalidOid;

// A row of fraud_models as found by FetchActiveModelRow; document is palloc'd JSON text.
struct ModelRow {
  bool found;
  char* document;
  int32 version;
  int64 id;
};

// A row of fraud_rules, its jsonpath copied into the cache context.
struct RuleRow {
  char* name;
  bool allow;
  Datum path;
};

// Attribute number of a column of `desc` by name, or an internal error when absent.
AttrNumber ColumnNumber(TupleDesc desc, const char* name) {
  for (int i = 0; i < desc->natts; ++i) {
    Form_pg_attribute att = TupleDescAttr(desc, i);
    if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0) return att->attnum;
  }
  elog(ERROR, "pg_fraud: table of pg_fraud has no column %s", name);
}

// True when the text column `att` of the tuple equals `value`.
bool TextColumnEquals(HeapTuple tuple, AttrNumber att, TupleDesc desc, const char* value) {
  bool isnull;
  Datum d = heap_getattr(tuple, att, desc, &isnull);
  if (isnull) return false;
  char* column_text = TextDatumGetCString(d);
  bool equal = strcmp(column_text, value) == 0;
  pfree(column_text);
  return equal;
}

Snapshot CurrentSnapshot() { return ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot(); }

// Visits the rows of one of pg_fraud's tables, calling visit(tuple, desc) until it returns
// false, by a heap scan (scoring needs no privilege on the table). A Citus reference table
// (fraud_distribute_models) is a shell on every node: its rows are in the node's placement,
// which is scanned instead (a query of the shell from a function that Citus pushed down to a
// shard would be a nested distributed query, which Citus refuses). PostgreSQL code: run it
// through PgCall.
template <typename Visit>
void ScanTable(Oid relid, Visit visit) {
  if (IsCitusTable(relid)) {
    const Oid placement = LocalPlacement(relid);
    if (!OidIsValid(placement)) {
      ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                      errmsg("pg_fraud: this node holds no placement of %s", get_rel_name(relid)),
                      errhint("Add the coordinator to the Citus metadata (citus_set_coordinator_host) so that "
                              "reference tables are placed on it.")));
    }
    relid = placement;
  }
  Relation rel = table_open(relid, AccessShareLock);
  TupleDesc desc = RelationGetDescr(rel);
  TableScanDesc scan = table_beginscan(rel, CurrentSnapshot(), 0, nullptr);
  HeapTuple tuple;
  while ((tuple = heap_getnext(scan, ForwardScanDirection)) != nullptr) {
    if (!visit(tuple, desc)) break;
  }
  table_endscan(scan);
  table_close(rel, AccessShareLock);
}

// Visits the rows of a pg_fraud table whose boolean `flag` column is true and whose text
// `key` column equals `value`, until visit returns false (PostgreSQL code).
template <typename Visit>
void ScanMatching(Oid relid, const char* flag, const char* key, const char* value, Visit visit) {
  ScanTable(relid, [&](HeapTuple tuple, TupleDesc desc) {
    bool isnull;
    Datum set = heap_getattr(tuple, ColumnNumber(desc, flag), desc, &isnull);
    if (isnull || !DatumGetBool(set) || !TextColumnEquals(tuple, ColumnNumber(desc, key), desc, value)) return true;
    return visit(tuple, desc);
  });
}

// The active row of fraud_models for `name` (PostgreSQL code; run it through PgCall).
ModelRow FetchActiveModelRow(Oid relid, const char* name) {
  ModelRow row = {false, nullptr, 0, 0};
  ScanMatching(relid, "active", "name", name, [&row](HeapTuple tuple, TupleDesc desc) {
    bool isnull;
    Jsonb* document = DatumGetJsonbP(heap_getattr(tuple, ColumnNumber(desc, "document"), desc, &isnull));
    row.found = true;
    row.document = JsonbToCString(nullptr, &document->root, VARSIZE(document));
    row.version = DatumGetInt32(heap_getattr(tuple, ColumnNumber(desc, "version"), desc, &isnull));
    row.id = DatumGetInt64(heap_getattr(tuple, ColumnNumber(desc, "id"), desc, &isnull));
    return false;  // a unique partial index allows one active row per name
  });
  return row;
}

// The row of fraud_models for `name` and `version`, active or not (PostgreSQL code).
ModelRow FetchModelVersionRow(Oid relid, const char* name, int32 version) {
  ModelRow row = {false, nullptr, 0, 0};
  ScanTable(relid, [&](HeapTuple tuple, TupleDesc desc) {
    bool isnull;
    const Datum v = heap_getattr(tuple, ColumnNumber(desc, "version"), desc, &isnull);
    if (isnull || DatumGetInt32(v) != version || !TextColumnEquals(tuple, ColumnNumber(desc, "name"), desc, name))
      return true;
    Jsonb* document = DatumGetJsonbP(heap_getattr(tuple, ColumnNumber(desc, "document"), desc, &isnull));
    row.found = true;
    row.document = JsonbToCString(nullptr, &document->root, VARSIZE(document));
    row.version = version;
    row.id = DatumGetInt64(heap_getattr(tuple, ColumnNumber(desc, "id"), desc, &isnull));
    return false;
  });
  return row;
}

// The enabled rules of `model` in fraud_rules (PostgreSQL code; run it through PgCall).
List* FetchRules(Oid relid, const char* model) {
  List* rules = NIL;
  ScanMatching(relid, "enabled", "model", model, [&rules](HeapTuple tuple, TupleDesc desc) {
    bool isnull;
    Datum predicate = heap_getattr(tuple, ColumnNumber(desc, "predicate"), desc, &isnull);
    if (isnull) return true;
    RuleRow* rule = static_cast<RuleRow*>(palloc(sizeof(RuleRow)));
    rule->name = TextDatumGetCString(heap_getattr(tuple, ColumnNumber(desc, "name"), desc, &isnull));
    rule->allow = TextColumnEquals(tuple, ColumnNumber(desc, "action"), desc, "allow");
    MemoryContext old = MemoryContextSwitchTo(g_cache_context);
    rule->path = PointerGetDatum(PG_DETOAST_DATUM_COPY(predicate));
    MemoryContextSwitchTo(old);
    rules = lappend(rules, rule);
    return true;
  });
  return rules;
}

void OnRelcacheInvalidation(Datum, Oid relid) {
  // Called at arbitrary points: only flags here; ActiveModel flushes on its next call.
  ++g_schema_epoch;
  if (relid == InvalidOid || relid == g_models_relid || relid == g_rules_relid) g_stale = true;
}

// Finds the extension's tables through the schema of one of its functions.
void LocateTables(Oid fn_oid) {
  PgCall([fn_oid] {
    Oid schema = get_func_namespace(fn_oid);
    g_models_relid = get_relname_relid("fraud_models", schema);
    g_rules_relid = get_relname_relid("fraud_rules", schema);
  });
  if (g_models_relid == InvalidOid || g_rules_relid == InvalidOid) {
    throw Error(ErrorCode::kUndefinedObject, "the tables of pg_fraud do not exist",
                "Reinstall the extension with DROP EXTENSION and CREATE EXTENSION pg_fraud.");
  }
}

}  // namespace

uint64_t ModelCacheGeneration() noexcept { return g_generation; }

bool ModelCacheStale() noexcept { return g_stale; }

uint64_t SchemaEpoch() noexcept { return g_schema_epoch; }

void RegisterModelCacheCallback() {
  CacheRegisterRelcacheCallback(OnRelcacheInvalidation, (Datum)0);
  g_cache_context = AllocSetContextCreate(TopMemoryContext, "pg_fraud model cache", ALLOCSET_SMALL_SIZES);
}

namespace {

void FlushIfStale() {
  if (!g_stale) return;
  g_models.clear();
  MemoryContextReset(g_cache_context);  // nothing points into it any more
  g_models_relid = g_rules_relid = InvalidOid;
  ++g_generation;
  g_stale = false;
}

// A cache entry for a fetched model row, with the model's enabled rules, stored under `key`.
const CachedModel& StoreEntry(const std::string& key, const std::string& name, ModelRow row) {
  const Oid rules_relid = g_rules_relid;
  const char* name_text = name.c_str();
  auto entry = std::make_unique<CachedModel>();
  entry->model = ParseModelDocument(row.document);
  SetLocalTime(&entry->model);  // hour_of_day and day_of_week in the model's time zone
  entry->name = name;
  entry->version = row.version;
  entry->id = row.id;
  entry->jsonb_order = JsonbKeyOrder(entry->model);
  // The linear shortcut of jsonb scoring: a logistic regression over numbers only (trees walk their nodes).
  entry->all_numeric =
      !entry->model.scorer && std::all_of(entry->model.features.begin(), entry->model.features.end(),
                                          [](const Feature& f) { return f.kind == FeatureKind::kNumeric; });
  List* rules = PgCall([rules_relid, name_text] { return FetchRules(rules_relid, name_text); });
  ListCell* cell;
  foreach (cell, rules) {
    const RuleRow* rule = static_cast<const RuleRow*>(lfirst(cell));
    entry->rules.push_back(CachedRule{rule->name, rule->allow, rule->path});
  }
  std::sort(entry->rules.begin(), entry->rules.end(),
            [](const CachedRule& a, const CachedRule& b) { return a.name < b.name; });
  PgCall([&row, rules] {
    pfree(row.document);
    list_free_deep(rules);
  });
  const CachedModel& result = *entry;
  g_models[key] = std::move(entry);
  return result;
}

}  // namespace

const CachedModel& ActiveModel(Oid fn_oid, std::string_view name) {
  FlushIfStale();
  const std::string model(name);
  const std::string key = "a" + model;  // versions are keyed "v<version>:<name>"
  auto found = g_models.find(key);
  if (found != g_models.end()) return *found->second;
  if (g_models_relid == InvalidOid) LocateTables(fn_oid);
  const Oid models = g_models_relid;
  const char* name_text = model.c_str();
  ModelRow row = PgCall([models, name_text] { return FetchActiveModelRow(models, name_text); });
  if (!row.found) {
    throw Error(ErrorCode::kUndefinedObject, "model \"" + model + "\" does not exist or has no active version",
                "Train one with train_fraud_model or import one with fraud_import_model.");
  }
  return StoreEntry(key, model, row);
}

const CachedModel& ModelVersion(Oid fn_oid, std::string_view name, int32 version) {
  FlushIfStale();
  const std::string model(name);
  const std::string key = "v" + std::to_string(version) + ":" + model;
  auto found = g_models.find(key);
  if (found != g_models.end()) return *found->second;
  if (g_models_relid == InvalidOid) LocateTables(fn_oid);
  const Oid models = g_models_relid;
  const char* name_text = model.c_str();
  ModelRow row = PgCall([models, name_text, version] { return FetchModelVersionRow(models, name_text, version); });
  if (!row.found) {
    throw Error(ErrorCode::kUndefinedObject, "model \"" + model + "\" has no version " + std::to_string(version));
  }
  return StoreEntry(key, model, row);
}

}  // namespace glue
}  // namespace pgfraud
