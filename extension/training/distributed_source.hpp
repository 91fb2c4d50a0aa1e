// Training over a Citus distributed table: the coordinator's table is a shell holding no rows
// (or the rows left from before distribution), so a pass never reads it. Each pass runs the
// pass aggregate on every shard, on the workers, through Citus's run_command_on_shards (the
// spec sent once per shard, as a literal of the command), and merges the shards' serialised
// states here with fraud_train_merge: states cross the network, not rows.
#pragma once

#include <string>

#include "pg_headers.hpp"

namespace pgfraud {
namespace glue {

// The pass query over the shards of `relid`: `per_shard` is one shard's pass query with
// "%%s" where the shard's name goes and "%L" where the spec ($1) goes, every other '%'
// doubled (PerShardTemplate). The query returns the merged state and the bytes received.
std::string ShardPassQuery(const std::string& schema, Oid relid, const std::string& per_shard);

// `query` with every '%' doubled, then `spec_marker` made "%L" and `from_marker` "%%s".
std::string PerShardTemplate(const std::string& query, const std::string& spec_marker, const std::string& from_marker);

// The rows of `relid`'s shards as their workers last counted them (the sum of the shards'
// pg_class.reltuples, from VACUUM, ANALYZE or CREATE INDEX), or 0 when a shard was never
// counted. It sizes the warm start's per-shard sample as EstimatedRows does a local table's.
// Runs SPI (connected by the caller).
double ShardRowEstimate(Oid relid);

}  // namespace glue
}  // namespace pgfraud
