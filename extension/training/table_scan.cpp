// Reads a table's rows for the statistics pass without the executor (see table_scan.hpp).
#include "training/table_scan.hpp"

#include <memory>
#include <system_error>
#include <vector>

#include "guard.hpp"
#include "citus/citus_catalog.hpp"
#include "values/row_values.hpp"
#include "training/statistics_pipeline.hpp"
#include "training/training_data.hpp"

namespace pgfraud {
namespace glue {

bool CanScanDirectly(Oid relid) {
  return PgCall([relid] {
    if (get_rel_relkind(relid) != RELKIND_RELATION || has_subclass(relid) || !ActiveSnapshotSet()) return false;
    if (IsCitusTable(relid)) return false;  // a Citus shell: the rows are on the shards
    if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED) return false;
    Relation rel = table_open(relid, AccessShareLock);
    const bool heap = rel->rd_tableam == GetHeapamTableAmRoutine();
    table_close(rel, NoLock);  // the lock stays to the end of the transaction, as a query's
    return heap;
  });
}

namespace {

// The parsed label of a tuple (nullopt: NULL); throws Error on a value training refuses.
std::optional<bool> TupleLabel(const Feature& label, const ColumnPlan& plan, HeapTuple tuple, TupleDesc desc) {
  bool isnull;
  const Datum d = heap_getattr(tuple, plan.attnum, desc, &isnull);
  FeatureValue value;
  ConvertOrMissing(plan, isnull, d, value);
  return ReadLabel(label, value);
}

}  // namespace

RowSplit DrawTableSplit(Oid relid, const PassSpec& spec) {
  const Model reading = ReadingModel(spec.columns, spec.label, spec.missing_values);
  std::vector<uint64_t> keys[2];
  PgCall([&] {
    Relation rel = table_open(relid, AccessShareLock);
    TupleDesc desc = RelationGetDescr(rel);
    ColumnPlan* plans = static_cast<ColumnPlan*>(palloc(sizeof(ColumnPlan) * reading.features.size()));
    PlanColumns(reading, desc, plans);
    const Feature& label = reading.features.back();
    const ColumnPlan& plan = plans[reading.features.size() - 1];
    MemoryContext row_context =
        AllocSetContextCreate(CurrentMemoryContext, "pg_fraud holdout scan", ALLOCSET_SMALL_SIZES);
    TableScanDesc scan = table_beginscan(rel, GetActiveSnapshot(), 0, nullptr);
    MemoryContext caller = CurrentMemoryContext;
    try {
      for (HeapTuple tuple; (tuple = heap_getnext(scan, ForwardScanDirection)) != nullptr;) {
        CHECK_FOR_INTERRUPTS();
        MemoryContextSwitchTo(row_context);
        const std::optional<bool> y = TupleLabel(label, plan, tuple, desc);
        if (y) keys[*y ? 1 : 0].push_back(RowSplit::Key(TuplePosition(tuple->t_self), spec.seed));
        MemoryContextSwitchTo(caller);
        MemoryContextReset(row_context);
      }
    } catch (...) {  // a label training refuses, or no memory for the keys: leave in the caller's context
      MemoryContextSwitchTo(caller);
      throw;
    }
    table_endscan(scan);
    MemoryContextDelete(row_context);
    pfree(plans);
    table_close(rel, NoLock);
  });
  return RowSplit::Choose(keys, spec.holdout);
}

uint64_t TuplePosition(const ItemPointerData& tid) {
  return (static_cast<uint64_t>(ItemPointerGetBlockNumberNoCheck(&tid)) << 16) |
         ItemPointerGetOffsetNumberNoCheck(&tid);
}

namespace {

// Reads every tuple of `relid` under the active snapshot, deformed once: `row(tuple, plans,
// datums, nulls)` for each (columns planned for `reading`), in a memory context reset per
// row, until it returns false. Everything PostgreSQL allocates lives in the scan's own
// context; `row` may throw (a bad value, a sink's error, a cancel through PgCall).
template <typename Row>
void ScanTuples(Oid relid, const Model& reading, Row&& row) {
  MemoryContext pass_context =
      PgCall([] { return AllocSetContextCreate(CurrentMemoryContext, "pg_fraud table scan", ALLOCSET_DEFAULT_SIZES); });
  PgCall([&] {
    MemoryContext caller = MemoryContextSwitchTo(pass_context);
    MemoryContext row_context = AllocSetContextCreate(pass_context, "pg_fraud scanned row", ALLOCSET_SMALL_SIZES);
    Relation rel = table_open(relid, AccessShareLock);
    TupleDesc desc = RelationGetDescr(rel);
    auto* plans = static_cast<ColumnPlan*>(palloc(sizeof(ColumnPlan) * reading.features.size()));
    PlanColumns(reading, desc, plans);
    auto* datums = static_cast<Datum*>(palloc(sizeof(Datum) * desc->natts));
    auto* nulls = static_cast<bool*>(palloc(sizeof(bool) * desc->natts));
    TableScanDesc scan = table_beginscan(rel, GetActiveSnapshot(), 0, nullptr);
    try {
      for (HeapTuple tuple; (tuple = heap_getnext(scan, ForwardScanDirection)) != nullptr;) {
        CHECK_FOR_INTERRUPTS();
        MemoryContextSwitchTo(row_context);
        heap_deform_tuple(tuple, desc, datums, nulls);
        const bool more = row(tuple, plans, datums, nulls);
        MemoryContextSwitchTo(pass_context);
        MemoryContextReset(row_context);
        if (!more) break;
      }
    } catch (...) {  // leave in the caller's context
      MemoryContextSwitchTo(caller);
      throw;
    }
    table_endscan(scan);
    table_close(rel, NoLock);
    MemoryContextSwitchTo(caller);
  });
  PgCall([pass_context] { MemoryContextDelete(pass_context); });
}

}  // namespace

TrainingStats ScanStatistics(Oid relid, const PassSpec& spec) {
  const PassContext context(spec);
  const Model& reading = context.reading();
  std::unique_ptr<StatisticsPipeline> pipeline;
  TrainingStats stats;
  if (spec.pipeline) {
    try {
      pipeline = std::make_unique<StatisticsPipeline>(context, context.NewStatistics(false), spec.expected_rows);
    } catch (const std::system_error&) {  // no thread to be had: the rows are added here
    }
  }
  if (!pipeline) stats = context.NewStatistics();
  const bool by_row = spec.row_split.has_value();  // each row's position goes with it
  std::vector<FeatureValue> values(reading.features.size());
  ScanTuples(relid, reading, [&](HeapTuple tuple, const ColumnPlan* plans, const Datum* datums, const bool* nulls) {
    // The values are copied (the pipeline) or read (statistics) before the reset.
    const uint64_t position = by_row ? TuplePosition(tuple->t_self) : RowSplit::kNoPosition;
    if (pipeline) {
      FeatureValue value;
      for (size_t i = 0; i < values.size(); ++i) {
        const int a = plans[i].attnum - 1;
        ConvertOrMissing(plans[i], nulls[a], datums[a], value);
        pipeline->Set(i, value);
      }
      pipeline->EndRow(position);
    } else {
      RowFeatureValues(reading, plans, datums, nulls, values.data());
      context.AddToStatistics(stats, values.data(), position);
    }
    return true;
  });
  if (pipeline) stats = pipeline->Finish();
  if (stats.rows == 0) return TrainingStats();  // as a pass over no rows: the aggregate's NULL
  stats.TrimWhole();  // as the aggregate's final function: the whole rows kept, not the candidates
  return stats;
}

void ScanRows(Oid relid, const PassSpec& spec, const PassRunner::RowSink& row) {
  const Model reading = ReadingModel(spec.columns, spec.label, spec.missing_values);
  const bool by_row = spec.row_split.has_value();
  std::vector<FeatureValue> values(reading.features.size());
  ScanTuples(relid, reading, [&](HeapTuple tuple, const ColumnPlan* plans, const Datum* datums, const bool* nulls) {
    RowFeatureValues(reading, plans, datums, nulls, values.data());
    return row(values.data(), by_row ? TuplePosition(tuple->t_self) : RowSplit::kNoPosition);
  });
}

}  // namespace glue
}  // namespace pgfraud
