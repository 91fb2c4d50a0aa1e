// Training passes over the shards of a Citus table (see the header).
#include "training/distributed_source.hpp"

#include "guard.hpp"

extern "C" {
#include "access/genam.h"
#include "catalog/pg_namespace.h"
#include "utils/fmgroids.h"
}

namespace pgfraud {
namespace glue {

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

Oid LocalPlacement(Oid relid) {
  const Oid catalog = get_relname_relid("pg_dist_shard", PG_CATALOG_NAMESPACE);
  if (!OidIsValid(catalog)) return InvalidOid;
  const AttrNumber relid_column = get_attnum(catalog, "logicalrelid"), shard_column = get_attnum(catalog, "shardid");
  if (relid_column == InvalidAttrNumber || shard_column == InvalidAttrNumber) return InvalidOid;
  Relation rel = table_open(catalog, AccessShareLock);
  ScanKeyData key;
  ScanKeyInit(&key, relid_column, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
  SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, nullptr, 1, &key);
  int64 shard = -1;
  int shards = 0;
  HeapTuple tuple;
  while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
    bool isnull;
    const Datum d = heap_getattr(tuple, shard_column, RelationGetDescr(rel), &isnull);
    if (!isnull) shard = DatumGetInt64(d);
    ++shards;
  }
  systable_endscan(scan);
  table_close(rel, AccessShareLock);
  if (shards != 1 || shard < 0) return InvalidOid;
  // Citus names a shard <table>_<shard id>, in the table's schema (shards' names fit NAMEDATALEN:
  // Citus shortens long table names the same way, so look the name up as Citus made it).
  const char* name = psprintf("%s_" INT64_FORMAT, get_rel_name(relid), shard);
  const Oid placement = get_relname_relid(name, get_rel_namespace(relid));
  return OidIsValid(placement) && get_rel_relkind(placement) == RELKIND_RELATION ? placement : InvalidOid;
}

std::string PerShardTemplate(const std::string& query, const std::string& spec_marker, const std::string& from_marker) {
  std::string escaped;
  for (char c : query) {
    escaped += c;
    if (c == '%') escaped += '%';
  }
  auto replace = [&escaped](const std::string& marker, const std::string& by) {
    const size_t at = escaped.find(marker);
    if (at != std::string::npos) escaped.replace(at, marker.size(), by);
  };
  replace(spec_marker, "%L");
  replace(from_marker, "%%s");
  return escaped;
}

std::string ShardPassQuery(const std::string& schema, Oid relid, const std::string& per_shard) {
  const std::string literal = PgCall([&] { return std::string(quote_literal_cstr(per_shard.c_str())); });
  return "SELECT " + schema +
         ".fraud_train_merge(r.success, r.result), pg_catalog.sum(pg_catalog.octet_length(r.result))"
         " FROM pg_catalog.run_command_on_shards(" +
         std::to_string(relid) +
         "::pg_catalog.oid::pg_catalog.regclass, "
         "pg_catalog.format(" +
         literal + ", $1)) AS r";
}

}  // namespace glue
}  // namespace pgfraud
