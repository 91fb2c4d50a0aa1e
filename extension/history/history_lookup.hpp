// History features at scoring time: an entity's earlier rows looked up in a relation
// through SPI, computed by the same ComputeEntityFeatures training's sweep uses.
#pragma once

#include "common/feature_value.hpp"
#include "model/model.hpp"
#include "pg_headers.hpp"
#include "values/row_values.hpp"

namespace pgfraud {
namespace glue {

// How a lookup runs.
struct LookupMode {
  bool lock = false;      // trigger: serialise the entity's inserts (advisory lock buckets)
  bool as_owner = false;  // trigger: read the history as the relation's owner
};

// Fills values[i] of every history feature of `model` for the row `datums`/`nulls` (of
// `desc`, which names the declared columns) from the rows of `relid` earlier than it.
void FillHistoryFromRow(const Model& model, Oid relid, TupleDesc desc, const Datum* datums, const bool* nulls,
                        FeatureValue* values, LookupMode mode);

// A stored row just read by `reader`: its history features from the rows of its own table
// (or view) earlier than its time; a row of a query that already carries every history
// column (evaluation reads rows so) is left as read. 42703 for a row of no relation.
void FillStoredRowHistory(const Model& model, HeapTupleHeader row, const RowReader& reader, FeatureValue* values);

// The same for a jsonb transaction (its keys named as the columns), from `relid`.
void FillHistoryFromJsonb(const Model& model, Oid relid, Jsonb* tx, FeatureValue* values);

// The relation a model's history is read from when scoring jsonb (its "relation").
Oid HistoryRelation(const Model& model);

// Takes the advisory lock buckets of the row's entities (sorted, so two inserters never
// wait on each other in opposite orders); held to the end of the transaction.
void LockEntities(const Model& model, Oid relid, HeapTuple tuple, TupleDesc desc);

// A new row whose history time is NULL gets the clock's time, read under the entities'
// locks (so one entity's rows are stamped in commit order); returns the row to store.
HeapTuple StampTime(const Model& model, HeapTuple tuple, TupleDesc desc);

}  // namespace glue
}  // namespace pgfraud
