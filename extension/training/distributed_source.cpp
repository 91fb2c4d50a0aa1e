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

std::string NodeTemplate(const std::string& query, const std::string& spec_marker, const std::string& from_marker) {
  std::string escaped;
  for (char c : query) {
    escaped += c;
    if (c == '%') escaped += '%';
  }
  auto replace = [&escaped](const std::string& marker, const std::string& by) {
    if (marker.empty()) return;
    const size_t at = escaped.find(marker);
    if (at != std::string::npos) escaped.replace(at, marker.size(), by);
  };
  replace(spec_marker, "%1$L");
  replace(from_marker, "%2$s");
  return escaped;
}

namespace {

// The FROM items that run `command` (an SQL expression of a format() template) once per node
// holding shards of `relid` (fraud_node_commands) and give r(success, result).
std::string RunOnNodes(const std::string& schema, Oid relid, const std::string& command, const std::string& spec) {
  return schema + ".fraud_node_commands(" + std::to_string(relid) + "::pg_catalog.oid::pg_catalog.regclass, " +
         command + ", " + spec + ") AS a, pg_catalog.master_run_on_worker(a.nodes, a.ports, a.commands, true) AS r";
}

std::string Literal(const std::string& text) {
  return PgCall([&] { return std::string(quote_literal_cstr(text.c_str())); });
}

}  // namespace

std::string ShardPassQuery(const std::string& schema, Oid relid, const std::string& per_node) {
  return "SELECT " + schema +
         ".fraud_train_merge(r.success, r.result), pg_catalog.sum(pg_catalog.octet_length(r.result)) FROM " +
         RunOnNodes(schema, relid, Literal(per_node), "$1");
}

double ShardRowEstimate(const std::string& schema, Oid relid) {
  const std::string per_node =
      "SELECT CASE WHEN pg_catalog.bool_and(c.reltuples >= 0) THEN pg_catalog.sum(c.reltuples) ELSE -1 END "
      "FROM pg_catalog.pg_class AS c WHERE c.oid OPERATOR(pg_catalog.=) ANY (ARRAY[%3$s]::pg_catalog.regclass[])";
  const std::string query =
      "SELECT pg_catalog.sum(c.rows), pg_catalog.bool_and(c.rows >= 0) FROM (SELECT CASE WHEN r.success "
      "THEN r.result::pg_catalog.float8 ELSE -1 END AS rows FROM " +
      RunOnNodes(schema, relid, Literal(per_node), "NULL") + ") AS c";
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
