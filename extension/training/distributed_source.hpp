// Training over a Citus distributed table: the coordinator's table is a shell holding no rows
// (or the rows left from before distribution), so a pass never reads it. Each pass runs the
// pass aggregate on the workers, one command per worker over all its shards (a UNION ALL of
// them, which the worker's planner may read in parallel) through Citus's master_run_on_worker,
// the spec a literal of the command, and merges the workers' serialised states here with
// fraud_train_merge: states cross the network, not rows.
#pragma once

#include <string>

#include "pg_headers.hpp"

namespace pgfraud {
namespace glue {

// The pass query over the shards of `relid`: `per_node` is a pass query over one relation with
// "%2$s" where the relation goes (a node's shards, fraud_node_commands) and "%1$L" where the
// spec ($1) goes, every other '%' doubled (NodeTemplate). The query returns the merged state
// and the bytes received.
std::string ShardPassQuery(const std::string& schema, Oid relid, const std::string& per_node);

// `query` with every '%' doubled, then `spec_marker` (unless empty) made "%1$L" and
// `from_marker` "%2$s".
std::string NodeTemplate(const std::string& query, const std::string& spec_marker, const std::string& from_marker);

// The rows of `relid`'s shards as their workers last counted them (the sum of the shards'
// pg_class.reltuples, from VACUUM, ANALYZE or CREATE INDEX), or 0 when a shard was never
// counted. It sizes the warm start's sample on the workers as EstimatedRows does a local table's.
// Runs SPI (connected by the caller).
double ShardRowEstimate(const std::string& schema, Oid relid);

}  // namespace glue
}  // namespace pgfraud
