// Citus's catalog as pg_fraud reads it, without linking to Citus: whether a relation is a
// Citus table, which local table holds a node's placement of a reference table, and whether
// a relation is a shard (and of which table). Each function is false/InvalidOid when Citus is
// not installed. All of them are PostgreSQL code: call them inside PgCall.
#pragma once

#include <string>
#include <vector>

#include "pg_headers.hpp"

namespace pgfraud {
namespace glue {

// Whether `relid` is a Citus table (distributed, reference or Citus-local: in
// pg_dist_partition).
bool IsCitusTable(Oid relid);

// Whether every entity's rows of `relid` are on one shard: a reference table (one shard), or a
// hash-distributed table whose distribution column is the only entity in `by`. Then each
// node can compute its rows' history from its own shards. Runs SPI (connected by the caller).
bool HistoryIsShardLocal(Oid relid, const std::vector<std::string>& by);

// This node's placement of a Citus table with one shard (a reference table): the local table
// holding its rows, or InvalidOid when this node holds none.
Oid LocalPlacement(Oid relid);

// A shard of a distributed table, as this node sees it.
struct ShardIdentity {
  Oid table = InvalidOid;  // the distributed table (its shell on this node)
  int64 shard = 0;         // pg_dist_shard.shardid
};

// Whether `relid` is a shard placement (Citus names it <table>_<shard id>); fills *out.
bool ShardOf(Oid relid, ShardIdentity* out);

// The local placement of the shard of `table` colocated with shard `shard` (the same hash
// range), or InvalidOid when this node holds none.
Oid ColocatedPlacement(Oid table, int64 shard);

}  // namespace glue
}  // namespace pgfraud
