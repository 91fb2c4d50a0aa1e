// The statistics pass that keeps every row in memory, reading a plain table directly: a heap
// scan under the query's snapshot, each tuple deformed once, no executor between the page
// and the pipeline. That pass runs in this backend alone (train_functions.cpp); through the
// executor (scan node, the aggregate's 32 arguments, a transition call per row) it took
// 0.45 s for 1M rows x 30 columns, read directly 0.37 s.
#pragma once

#include "pg_headers.hpp"
#include "linear/trainer.hpp"

namespace pgfraud {
namespace glue {

// Whether `relid` can be read directly with the rows `SELECT ... FROM relid` gives this
// user: a heap table without inheritance children (which the query would read too), with
// no row-level security policy applying to the user (which the query would apply), and a
// snapshot to read it with. Privileges are the caller's to check, as train_fraud_model does.
bool CanScanDirectly(Oid relid);

// The exact stratified holdout of `relid`'s rows under the query's snapshot (RowSplit): one
// scan of the label column, 8 bytes a labelled row while it runs.
RowSplit DrawTableSplit(Oid relid, const PassSpec& spec);
// A tuple's position, as RowSplit keys it.
uint64_t TuplePosition(const ItemPointerData& tid);

// The statistics of `spec` (a statistics pass) over every row of `relid`; with a row split,
// each row is held out by its tuple id.
TrainingStats ScanStatistics(Oid relid, const PassSpec& spec);

// Every row of `relid` read as ScanStatistics reads them, each handed to `row` with its
// position (kNoPosition without a row split) until it returns false: the passes boosted trees
// make. A row's values are valid only during its call (texts point into the page).
void ScanRows(Oid relid, const PassSpec& spec, const PassRunner::RowSink& row);

}  // namespace glue
}  // namespace pgfraud
