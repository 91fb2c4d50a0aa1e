// Model cache: loads active models by a direct scan (no privilege needed to score), and is
// flushed by a relcache callback that the statement trigger on fraud_models fires on commit.
#include "model_cache.hpp"

#include <memory>
#include <unordered_map>

#include "errors.hpp"
#include "guard.hpp"
#include "jsonb_values.hpp"
#include "model_document.hpp"

namespace pgfraud {
namespace glue {
namespace {

std::unordered_map<std::string, std::unique_ptr<CachedModel>> g_models;
uint64_t g_generation = 1;
bool g_stale = false;
Oid g_models_relid = InvalidOid;

// A row of fraud_models as found by FetchModelRow; document is palloc'd JSON text.
struct ModelRow {
  bool found;
  char* document;
  int32 version;
  int64 id;
};

// Attribute number of a column of `desc` by name, or an internal error when absent.
AttrNumber ColumnNumber(TupleDesc desc, const char* name) {
  for (int i = 0; i < desc->natts; ++i) {
    Form_pg_attribute att = TupleDescAttr(desc, i);
    if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0) return att->attnum;
  }
  elog(ERROR, "pg_fraud: fraud_models has no column %s", name);
}

// Scans fraud_models for the active row of `name` (PostgreSQL code; run it through PgCall).
ModelRow FetchActiveModelRow(Oid relid, const char* name) {
  ModelRow row = {false, nullptr, 0, 0};
  Relation rel = table_open(relid, AccessShareLock);
  TupleDesc desc = RelationGetDescr(rel);
  AttrNumber name_att = ColumnNumber(desc, "name");
  AttrNumber active_att = ColumnNumber(desc, "active");
  AttrNumber version_att = ColumnNumber(desc, "version");
  AttrNumber id_att = ColumnNumber(desc, "id");
  AttrNumber document_att = ColumnNumber(desc, "document");
  Snapshot snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
  TableScanDesc scan = table_beginscan(rel, snapshot, 0, nullptr);
  HeapTuple tuple;
  while ((tuple = heap_getnext(scan, ForwardScanDirection)) != nullptr) {
    bool isnull;
    Datum active = heap_getattr(tuple, active_att, desc, &isnull);
    if (isnull || !DatumGetBool(active)) continue;
    Datum row_name = heap_getattr(tuple, name_att, desc, &isnull);
    if (isnull) continue;
    char* row_name_text = TextDatumGetCString(row_name);
    bool match = strcmp(row_name_text, name) == 0;
    pfree(row_name_text);
    if (!match) continue;
    Jsonb* document = DatumGetJsonbP(heap_getattr(tuple, document_att, desc, &isnull));
    row.found = true;
    row.document = JsonbToCString(nullptr, &document->root, VARSIZE(document));
    row.version = DatumGetInt32(heap_getattr(tuple, version_att, desc, &isnull));
    row.id = DatumGetInt64(heap_getattr(tuple, id_att, desc, &isnull));
    break;  // a unique partial index allows one active row per name
  }
  table_endscan(scan);
  table_close(rel, AccessShareLock);
  return row;
}

void OnRelcacheInvalidation(Datum, Oid relid) {
  // Called at arbitrary points: only flags here; ActiveModel flushes on its next call.
  if (relid == InvalidOid || relid == g_models_relid) g_stale = true;
}

}  // namespace

uint64_t ModelCacheGeneration() noexcept { return g_generation; }

bool ModelCacheStale() noexcept { return g_stale; }

void RegisterModelCacheCallback() { CacheRegisterRelcacheCallback(OnRelcacheInvalidation, (Datum)0); }

Oid ModelsRelation(Oid fn_oid) {
  if (g_models_relid != InvalidOid && !g_stale) return g_models_relid;
  Oid relid = PgCall([fn_oid] { return get_relname_relid("fraud_models", get_func_namespace(fn_oid)); });
  if (relid == InvalidOid) {
    throw Error(ErrorCode::kUndefinedObject, "table fraud_models of pg_fraud does not exist",
                "Reinstall the extension with DROP EXTENSION and CREATE EXTENSION pg_fraud.");
  }
  return relid;
}

const CachedModel& ActiveModel(Oid fn_oid, std::string_view name) {
  if (g_stale) {
    g_models.clear();
    g_models_relid = InvalidOid;
    ++g_generation;
    g_stale = false;
  }
  std::string key(name);
  auto found = g_models.find(key);
  if (found != g_models.end()) return *found->second;

  g_models_relid = ModelsRelation(fn_oid);
  Oid relid = g_models_relid;
  const char* key_text = key.c_str();
  ModelRow row = PgCall([relid, key_text] { return FetchActiveModelRow(relid, key_text); });
  if (!row.found) {
    throw Error(ErrorCode::kUndefinedObject, "model \"" + key + "\" does not exist or has no active version",
                "Train one with train_fraud_model or import one with fraud_import_model.");
  }
  auto entry = std::make_unique<CachedModel>();
  entry->model = ParseModelDocument(row.document);
  entry->name = key;
  entry->version = row.version;
  entry->id = row.id;
  entry->jsonb_order = JsonbKeyOrder(entry->model);
  PgCall([&row] { pfree(row.document); });
  const CachedModel& result = *entry;
  g_models[key] = std::move(entry);
  return result;
}

}  // namespace glue
}  // namespace pgfraud
