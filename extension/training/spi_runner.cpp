// SpiRunner's passes: SPI queries of the fraud_train_pass aggregate, direct table reads,
// cursors for streamed rows, and progress as NOTICEs (see the header).
#include "training/spi_runner.hpp"

#include <algorithm>
#include <memory>
#include <thread>

#include "common/errors.hpp"
#include "guard.hpp"
#include "training/pass_handover.hpp"
#include "training/table_scan.hpp"
#include "values/row_values.hpp"

namespace pgfraud {
namespace glue {

SpiRunner::SpiRunner(std::string query, double estimated_rows, Oid relid, std::string label, bool direct,
                     bool positions, bool shards)
    : query_(std::move(query)),
      direct_(direct),
      positions_(positions),
      shards_(shards),
      estimated_rows_(estimated_rows),
      relid_(relid),
      label_(std::move(label)),
      start_(std::chrono::steady_clock::now()) {}

// The label's most common values from pg_stats (ANALYZE's sample; the rows of child
// tables included when the source has them, as the passes read them).
std::optional<ValueFrequencies> SpiRunner::LabelFrequencies() {
  if (shards_) return std::nullopt;  // the coordinator's shell has no statistics of the rows
  static const char* const kQuery =
      "SELECT u.value, u.share, s.null_frac FROM (SELECT most_common_vals, most_common_freqs, null_frac "
      "FROM pg_catalog.pg_stats WHERE schemaname = $1 AND tablename = $2 AND attname = $3 "
      "ORDER BY inherited DESC LIMIT 1) s, "
      "unnest(s.most_common_vals::pg_catalog.text::pg_catalog.text[], s.most_common_freqs) AS u(value, share)";
  struct Common {
    char* value;
    float4 share;
    float4 null_fraction;
  };
  Common* common = nullptr;  // palloc'd: no C++ object is built while PostgreSQL may throw
  uint64 count = 0;
  PgCall([&] {
    Oid types[3] = {NAMEOID, NAMEOID, NAMEOID};
    Datum values[3] = {CStringGetDatum(get_namespace_name(get_rel_namespace(relid_))),
                       CStringGetDatum(get_rel_name(relid_)), CStringGetDatum(label_.c_str())};
    for (Datum& v : values) v = DirectFunctionCall1(namein, v);
    if (SPI_execute_with_args(kQuery, 3, types, values, nullptr, true, 0) != SPI_OK_SELECT) return;
    common = static_cast<Common*>(palloc0(sizeof(Common) * (SPI_processed + 1)));
    for (uint64 r = 0; r < SPI_processed; ++r) {
      HeapTuple row = SPI_tuptable->vals[r];
      bool null_value, null_share, null_fraction;
      Datum value = SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &null_value);
      Datum share = SPI_getbinval(row, SPI_tuptable->tupdesc, 2, &null_share);
      Datum fraction = SPI_getbinval(row, SPI_tuptable->tupdesc, 3, &null_fraction);
      if (null_value || null_share || null_fraction) continue;
      common[count++] = {TextDatumGetCString(value), DatumGetFloat4(share), DatumGetFloat4(fraction)};
    }
    SPI_freetuptable(SPI_tuptable);
  });
  std::optional<ValueFrequencies> out;
  for (uint64 r = 0; r < count; ++r) {
    if (!out) out.emplace();
    out->null_fraction = common[r].null_fraction;
    out->common.emplace_back(common[r].value, common[r].share);
  }
  return out;
}

// maintenance_work_mem, as for other maintenance work that keeps a table's rows in memory.
// Over shards: 0, every pass reads the shards on the workers (keeping the rows here would
// bring every row to the coordinator once, and train on one node's cores).
size_t SpiRunner::MemoryBudget() { return shards_ ? 0 : static_cast<size_t>(maintenance_work_mem) * 1024; }

// The cores a query may use: itself and as many workers as a Gather may have
// (max_parallel_workers_per_gather, within max_parallel_workers), up to the machine's.
int SpiRunner::Threads() {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int workers = std::max(0, std::min(max_parallel_workers_per_gather, max_parallel_workers));
  return std::min(cores, 1 + workers);
}

TrainingStats SpiRunner::Statistics(const PassSpec& spec) {
  // The pass that keeps every row runs in this backend alone: read a plain table directly.
  if (direct_ && spec.store_budget > 0 && CanScanDirectly(relid_)) return ScanStatistics(relid_, spec);
  PassSpec handing_over = spec;
  handing_over.hand_over = !shards_;  // a worker's backend would keep the statistics
  TakeStatistics();                   // nothing left from an earlier pass of this backend
  std::vector<uint8_t> bytes = RunPass(handing_over);
  if (bytes.empty()) return TrainingStats();  // no rows
  if (bytes.size() == 1 && bytes[0] == kHandedOver) {
    std::optional<TrainingStats> stats = TakeStatistics();
    if (!stats) throw Error(ErrorCode::kInternal, "the statistics pass handed over no state");
    return std::move(*stats);
  }
  return TrainingStats::Deserialize(bytes.data(), bytes.size());
}

// Held out by tuple id when every pass reads the table with its rows' ids.
std::optional<RowSplit> SpiRunner::DrawRowSplit(const PassSpec& spec) {
  if (!positions_) return std::nullopt;
  return DrawTableSplit(relid_, spec);
}

NewtonAccumulator SpiRunner::Newton(const PassSpec& spec) {
  std::vector<uint8_t> bytes = RunPass(spec);
  if (bytes.empty()) return NewtonAccumulator(spec.encoding.dim, spec.with_hessian);
  return NewtonAccumulator::Deserialize(bytes.data(), bytes.size());
}

void SpiRunner::CheckCancel() {
  PgCall([] { CHECK_FOR_INTERRUPTS(); });
}

// The rows of the source through a cursor, in this backend (boosted trees: XGBoost takes
// them from here), batch by batch: each batch's values are read in one PgCall and stay
// valid (texts point into the fetched tuples) until the sink has heard them.
void SpiRunner::Stream(const PassSpec& spec, const RowSink& row) {
  // A plain table is read directly, as the statistics pass reads it (no executor, no copy).
  if (direct_ && CanScanDirectly(relid_)) return ScanRows(relid_, spec, row);
  const Model reading = ReadingModel(spec.columns, spec.label, spec.missing_values);
  const size_t n = reading.features.size();
  const bool positions = spec.row_split.has_value();
  if (positions && !stream_positions_) throw Error(ErrorCode::kInternal, "a streamed pass has no tuple ids");
  constexpr long kFetch = 4096;
  std::vector<ColumnPlan> plans(n);
  std::vector<FeatureValue> values(n * kFetch);
  std::vector<uint64_t> keys(kFetch, RowSplit::kNoPosition);
  std::vector<Datum> datums(n + 1);
  std::unique_ptr<bool[]> nulls(new bool[n + 1]);
  Portal portal = PgCall([&] {
    SPIPlanPtr plan = SPI_prepare(stream_query_.c_str(), 0, nullptr);
    if (plan == nullptr) elog(ERROR, "pg_fraud: could not plan the rows of a training pass");
    return SPI_cursor_open(nullptr, plan, nullptr, nullptr, true);
  });
  bool planned = false;
  for (;;) {
    uint64 count = 0;
    PgCall([&] {
      CHECK_FOR_INTERRUPTS();
      SPI_cursor_fetch(portal, true, kFetch);
      count = SPI_processed;
      if (count == 0) return;
      TupleDesc desc = SPI_tuptable->tupdesc;
      if (!planned) {
        for (size_t i = 0; i < n; ++i) {
          plans[i] = PlanValue(reading.features[i], SPI_gettypeid(desc, static_cast<int>(i) + 1),
                               static_cast<AttrNumber>(i + 1));
        }
        planned = true;
      }
      for (uint64 r = 0; r < count; ++r) {
        heap_deform_tuple(SPI_tuptable->vals[r], desc, datums.data(), nulls.get());
        RowFeatureValues(reading, plans.data(), datums.data(), nulls.get(), &values[r * n]);
        if (positions && !nulls[n]) keys[r] = TuplePosition(*reinterpret_cast<ItemPointer>(DatumGetPointer(datums[n])));
      }
    });
    bool more = count > 0;
    for (uint64 r = 0; r < count && more; ++r) more = row(&values[r * n], keys[r]);
    PgCall([] {
      if (SPI_tuptable != nullptr) SPI_freetuptable(SPI_tuptable);
    });
    if (!more) break;
  }
  PgCall([&] { SPI_cursor_close(portal); });
}

void SpiRunner::Progress(const std::string& message) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  char suffix[32];
  snprintf(suffix, sizeof suffix, " (%.2f s)", elapsed);
  const std::string line = message + suffix;
  PgCall([&] {
    CHECK_FOR_INTERRUPTS();
    ereport(NOTICE, (errmsg("train_fraud_model: %s", line.c_str())));
  });
}

// The serialised aggregate state of one pass (without its kind byte); empty for no rows.
std::vector<uint8_t> SpiRunner::RunPass(const PassSpec& spec) {
  const std::string spec_text = spec.ToJson().dump();
  // A pass that keeps every row runs in this backend alone: parallel workers would send
  // their rows to the leader through a 64 kB queue, slower than reading them here.
  const bool serial = spec.store_budget > 0;
  // Otherwise at most one parallel worker per core besides this backend's: the planner
  // sizes a Gather by the table, not by the machine, and on two cores a leader and two
  // workers taking turns were slower than a leader and one worker (1M x 30, passes over
  // the table: 1.46x and 1.61x the speed of no worker).
  const int workers = serial ? 0 : Threads() - 1;
  const std::string workers_text = std::to_string(workers);
  std::vector<uint8_t> out;
  PgCall([&] {
    CHECK_FOR_INTERRUPTS();
    const int guc_level = NewGUCNestLevel();
    if (workers < max_parallel_workers_per_gather) {
      (void)set_config_option("max_parallel_workers_per_gather", workers_text.c_str(), PGC_USERSET, PGC_S_SESSION,
                              GUC_ACTION_SAVE, true, 0, false);
    }
    Oid types[1] = {TEXTOID};
    Datum values[1] = {CStringGetTextDatum(spec_text.c_str())};
    int rc = SPI_execute_with_args(query_.c_str(), 1, types, values, nullptr, true,
                                   0);  // a row limit would forbid a parallel plan
    if (rc != SPI_OK_SELECT || SPI_processed != 1) elog(ERROR, "pg_fraud: training pass returned no row");
    bool isnull;
    Datum result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    if (!isnull) {
      bytea* bytes = DatumGetByteaPP(result);
      const auto* data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(bytes));
      out.assign(data + 1, data + VARSIZE_ANY_EXHDR(bytes));
    }
    if (shards_) {  // the bytes of the shards' states, as text, that reached this node
      Datum received = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
      shard_bytes_.push_back(isnull ? 0 : DatumGetInt64(received));
    }
    SPI_freetuptable(SPI_tuptable);
    AtEOXact_GUC(true, guc_level);  // as a function's SET clause ends
  });
  return out;
}

}  // namespace glue
}  // namespace pgfraud
