// Citus's catalog tables read by systable scans (see the header).
#include "citus/citus_catalog.hpp"

extern "C" {
#include "access/genam.h"
#include "catalog/pg_namespace.h"
#include "executor/spi.h"
#include "utils/fmgroids.h"
}

namespace pgfraud {
namespace glue {
namespace {

// One row of pg_dist_shard (trivially destructible: an error may longjmp over it).
struct ShardRow {
  Oid table;
  int64 shard;
  const char* min_value;  // shardminvalue, palloc'd: the shard's hash range starts there ("" for none)
};

// Visits the rows of pg_dist_shard whose `column` equals `value` (compared by `eq`), until
// visit returns false; nothing when Citus is not installed.
template <typename Visit>
void ScanShards(const char* column, RegProcedure eq, Datum value, Visit visit) {
  const Oid catalog = get_relname_relid("pg_dist_shard", PG_CATALOG_NAMESPACE);
  if (!OidIsValid(catalog)) return;
  const AttrNumber key = get_attnum(catalog, column), table = get_attnum(catalog, "logicalrelid"),
                   shard = get_attnum(catalog, "shardid"), min_value = get_attnum(catalog, "shardminvalue");
  if (key == InvalidAttrNumber || table == InvalidAttrNumber || shard == InvalidAttrNumber ||
      min_value == InvalidAttrNumber)
    return;
  Relation rel = table_open(catalog, AccessShareLock);
  ScanKeyData scan_key;
  ScanKeyInit(&scan_key, key, BTEqualStrategyNumber, eq, value);
  SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, nullptr, 1, &scan_key);
  HeapTuple tuple;
  while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
    TupleDesc desc = RelationGetDescr(rel);
    bool isnull;
    ShardRow row;
    row.table = DatumGetObjectId(heap_getattr(tuple, table, desc, &isnull));
    row.shard = DatumGetInt64(heap_getattr(tuple, shard, desc, &isnull));
    const Datum min = heap_getattr(tuple, min_value, desc, &isnull);
    row.min_value = isnull ? "" : TextDatumGetCString(min);
    if (!visit(row)) break;
  }
  systable_endscan(scan);
  table_close(rel, AccessShareLock);
}

// The local table of shard `shard` of `table`: Citus names it <table>_<shard id> in the
// table's schema (a name too long for that is shortened by Citus with a hash, and not found
// here: such shards are treated as absent).
Oid Placement(Oid table, int64 shard) {
  const char* name = get_rel_name(table);
  if (name == nullptr) return InvalidOid;
  const Oid placement = get_relname_relid(psprintf("%s_" INT64_FORMAT, name, shard), get_rel_namespace(table));
  return OidIsValid(placement) && get_rel_relkind(placement) == RELKIND_RELATION ? placement : InvalidOid;
}

}  // namespace

bool IsCitusTable(Oid relid) {
  const Oid catalog = get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE);
  if (!OidIsValid(catalog)) return false;
  const AttrNumber column = get_attnum(catalog, "logicalrelid");
  if (column == InvalidAttrNumber) return false;
  Relation rel = table_open(catalog, AccessShareLock);
  ScanKeyData key;
  ScanKeyInit(&key, column, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
  SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, nullptr, 1, &key);
  const bool found = HeapTupleIsValid(systable_getnext(scan));
  systable_endscan(scan);
  table_close(rel, AccessShareLock);
  return found;
}

bool HistoryIsShardLocal(Oid relid, const std::vector<std::string>& by) {
  const char* query =
      "SELECT p.partmethod OPERATOR(pg_catalog.=) 'n', CASE WHEN p.partmethod OPERATOR(pg_catalog.=) 'h' THEN "
      "pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) END FROM pg_catalog.pg_dist_partition AS p "
      "WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1";
  Oid types[1] = {OIDOID};
  Datum values[1] = {ObjectIdGetDatum(relid)};
  if (SPI_execute_with_args(query, 1, types, values, nullptr, true, 1) != SPI_OK_SELECT || SPI_processed != 1) {
    return false;
  }
  bool null_single;
  const bool single = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &null_single));
  const char* column = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);  // palloc'd; NULL for none
  SPI_freetuptable(SPI_tuptable);
  return (!null_single && single) || (by.size() == 1 && column != nullptr && by[0] == column);
}

Oid LocalPlacement(Oid relid) {
  int shards = 0;
  int64 shard = -1;
  ScanShards("logicalrelid", F_OIDEQ, ObjectIdGetDatum(relid), [&](const ShardRow& row) {
    shard = row.shard;
    return ++shards < 2;
  });
  return shards == 1 ? Placement(relid, shard) : InvalidOid;
}

bool ShardOf(Oid relid, ShardIdentity* out) {
  const char* name = get_rel_name(relid);
  if (name == nullptr) return false;
  const char* underscore = strrchr(name, '_');
  if (underscore == nullptr || underscore[1] == '\0' || strspn(underscore + 1, "0123456789") != strlen(underscore + 1))
    return false;
  const int64 shard = strtoll(underscore + 1, nullptr, 10);
  bool found = false;
  ScanShards("shardid", F_INT8EQ, Int64GetDatum(shard), [&](const ShardRow& row) {
    found = Placement(row.table, shard) == relid;  // this very table, not a namesake
    if (found) *out = ShardIdentity{row.table, shard};
    return false;
  });
  return found;
}

Oid ColocatedPlacement(Oid table, int64 shard) {
  const char* min_value = nullptr;
  ScanShards("shardid", F_INT8EQ, Int64GetDatum(shard), [&](const ShardRow& row) {
    min_value = row.min_value;
    return false;
  });
  if (min_value == nullptr) return InvalidOid;
  Oid placement = InvalidOid;
  ScanShards("logicalrelid", F_OIDEQ, ObjectIdGetDatum(table), [&](const ShardRow& row) {
    if (strcmp(row.min_value, min_value) != 0) return true;
    placement = Placement(table, row.shard);
    return false;
  });
  return placement;
}

}  // namespace glue
}  // namespace pgfraud
