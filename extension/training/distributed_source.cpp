// Training passes over the shards of a Citus table (see the header).
#include "training/distributed_source.hpp"

#include "citus/citus_catalog.hpp"
#include "guard.hpp"

extern "C" {
#include "access/genam.h"
#include "catalog/pg_namespace.h"
#include "executor/spi.h"
#include "utils/fmgroids.h"
}

namespace pgfraud {
namespace glue {

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

namespace {

// Citus's run_command_on_shards over `relid`, `command` an SQL expression of the command text.
std::string RunOnShards(Oid relid, const std::string& command) {
  return "pg_catalog.run_command_on_shards(" + std::to_string(relid) + "::pg_catalog.oid::pg_catalog.regclass, " +
         command + ")";
}

}  // namespace

std::string ShardPassQuery(const std::string& schema, Oid relid, const std::string& per_shard) {
  const std::string literal = PgCall([&] { return std::string(quote_literal_cstr(per_shard.c_str())); });
  return "SELECT " + schema +
         ".fraud_train_merge(r.success, r.result), pg_catalog.sum(pg_catalog.octet_length(r.result)) FROM " +
         RunOnShards(relid, "pg_catalog.format(" + literal + ", $1)") + " AS r";
}

double ShardRowEstimate(Oid relid) {
  const std::string query =
      "SELECT pg_catalog.sum(c.rows), pg_catalog.bool_and(c.rows >= 0) FROM (SELECT CASE WHEN r.success "
      "THEN r.result::pg_catalog.float8 ELSE -1 END AS rows FROM " +
      RunOnShards(relid, "'SELECT reltuples FROM pg_catalog.pg_class WHERE oid = ''%s''::pg_catalog.regclass'") +
      " AS r) AS c";
  return PgCall([&query] {
    double rows = 0.0;
    if (SPI_execute(query.c_str(), true, 1) == SPI_OK_SELECT && SPI_processed == 1) {
      bool null_sum, null_counted;
      const Datum sum = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &null_sum);
      const Datum counted = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &null_counted);
      if (!null_sum && !null_counted && DatumGetBool(counted)) rows = DatumGetFloat8(sum);
      SPI_freetuptable(SPI_tuptable);
    }
    return rows;
  });
}

}  // namespace glue
}  // namespace pgfraud
