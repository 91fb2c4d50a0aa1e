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
