// fraud_history_window: the window function training reads history features from.
//
// Called as fraud_history_window(spec, entity IS NULL, time, amounts, distinct, new)
// OVER (PARTITION BY entity ORDER BY time): PostgreSQL partitions and sorts (spilling past
// work_mem); this function sweeps each partition once with HistorySweep. Each row's values
// are read once, as the current row, and wait in `pending` until a row with a later time
// comes: only then does the row join the history (ties never see each other), so every row
// gets exactly the features the trigger computes for it. Rows already in the sweep are never
// read again, so the window keeps only the current row (WinSetMarkPosition).
#include <cmath>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "guard.hpp"
#include "history/history_features.hpp"
#include "history/history_sql.hpp"

namespace pgfraud {
namespace glue {
namespace {

// A row read as the current row, not yet in the history (no later time seen yet).
struct PendingRow {
  int64_t time;
  std::vector<double> amounts;
  std::vector<std::optional<std::string>> distinct, fresh;
};

// One call site's sweep; lives in fn_extra, deleted with the call site's memory.
struct WindowState {
  std::deque<PendingRow> pending;
  HistorySpec spec;
  std::unique_ptr<HistorySweep> sweep;
  std::vector<double> amounts;
  std::vector<std::optional<std::string>> distinct, fresh;
  std::vector<double> out;
  Oid time_type = InvalidOid;  // of argument 2: timestamp, timestamptz or date
};

void DeleteState(void* arg) { delete static_cast<WindowState*>(arg); }

WindowState& StateOf(FunctionCallInfo fcinfo, WindowObject win) {
  if (fcinfo->flinfo->fn_extra != nullptr) return *static_cast<WindowState*>(fcinfo->flinfo->fn_extra);
  // A window function reads its arguments through the window object (the spec is a constant).
  const std::string spec_text = PgCall([&] {
    bool isnull;
    Datum spec = WinGetFuncArgCurrent(win, 0, &isnull);
    if (isnull)
      ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("the history declaration must not be null")));
    return std::string(TextDatumGetCString(spec));
  });
  auto state = std::make_unique<WindowState>();
  state->spec = HistorySpec::FromDocument(nlohmann::json::parse(spec_text));
  state->sweep = std::make_unique<HistorySweep>(state->spec);
  state->out.resize(state->spec.FeaturesPerEntity());
  state->time_type = PgCall([&] { return get_fn_expr_argtype(fcinfo->flinfo, 2); });
  if (state->time_type != TIMESTAMPTZOID && state->time_type != TIMESTAMPOID && state->time_type != DATEOID) {
    throw Error(ErrorCode::kDatatypeMismatch, "the history time must be a timestamp, timestamptz or date");
  }
  WindowState* raw = state.get();
  PgCall([&] {
    auto* callback = static_cast<MemoryContextCallback*>(
        MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(MemoryContextCallback)));
    callback->func = DeleteState;
    callback->arg = raw;
    MemoryContextRegisterResetCallback(fcinfo->flinfo->fn_mcxt, callback);
  });
  state.release();
  fcinfo->flinfo->fn_extra = raw;
  return *raw;
}

// Argument `argno` of the current row; false when NULL.
bool Argument(WindowObject win, int argno, Datum* out) {
  bool isnull = true;
  *out = WinGetFuncArgCurrent(win, argno, &isnull);
  return !isnull;
}

// Reads a float8[] or text[] argument into `numbers` or `texts` (`count` elements).
void ReadArray(Datum array, size_t count, std::vector<double>* numbers,
               std::vector<std::optional<std::string>>* texts) {
  if (numbers) numbers->assign(count, NAN);
  if (texts) texts->assign(count, std::nullopt);
  if (count == 0) return;
  ArrayType* a = DatumGetArrayTypeP(array);
  Datum* elements;
  bool* nulls;
  int n;
  deconstruct_array(a, numbers ? FLOAT8OID : TEXTOID, numbers ? 8 : -1, numbers ? FLOAT8PASSBYVAL : false,
                    numbers ? TYPALIGN_DOUBLE : TYPALIGN_INT, &elements, &nulls, &n);
  if (static_cast<size_t>(n) != count) elog(ERROR, "pg_fraud: history window array of the wrong length");
  for (int i = 0; i < n; ++i) {
    if (nulls[i]) continue;
    if (numbers) (*numbers)[i] = DatumGetFloat8(elements[i]);
    if (texts) (*texts)[i] = std::string(TextDatumGetCString(elements[i]));
  }
}

// Reads the current row's amounts, distinct and new values (arguments 3, 4, 5) into the state.
void ReadValues(WindowObject win, WindowState& s) {
  Datum d;
  const bool a = PgCall([&] { return Argument(win, 3, &d); });
  PgCall([&] { ReadArray(a ? d : 0, a ? s.spec.amounts.size() : 0, &s.amounts, nullptr); });
  if (!a) s.amounts.assign(s.spec.amounts.size(), NAN);
  const bool b = PgCall([&] { return Argument(win, 4, &d); });
  PgCall([&] { ReadArray(b ? d : 0, b ? s.spec.distinct.size() : 0, nullptr, &s.distinct); });
  if (!b) s.distinct.assign(s.spec.distinct.size(), std::nullopt);
  const bool c = PgCall([&] { return Argument(win, 5, &d); });
  PgCall([&] { ReadArray(c ? d : 0, c ? s.spec.fresh.size() : 0, nullptr, &s.fresh); });
  if (!c) s.fresh.assign(s.spec.fresh.size(), std::nullopt);
}

// The current row's features, or NULL for a NULL entity or time.
Datum HistoryWindow(FunctionCallInfo fcinfo) {
  WindowObject win = PG_WINDOW_OBJECT();
  WindowState& s = StateOf(fcinfo, win);
  int64* started = static_cast<int64*>(PgCall([&] { return WinGetPartitionLocalMemory(win, sizeof(int64)); }));
  if (*started == 0) {  // a new partition: a new entity
    s.sweep->Reset();
    s.pending.clear();
    *started = 1;
  }
  const int64 current = WinGetCurrentPosition(win);
  PgCall([&] { WinSetMarkPosition(win, current); });  // earlier rows are never read again
  Datum d;
  bool entity_null = true, isnull = true;
  d = PgCall([&] { return WinGetFuncArgCurrent(win, 1, &isnull); });
  entity_null = isnull || DatumGetBool(d);
  d = PgCall([&] { return WinGetFuncArgCurrent(win, 2, &isnull); });
  int64_t time = 0;
  if (entity_null || isnull || !TimeMicros(s.time_type, d, &time)) {  // no history, in no history
    fcinfo->isnull = true;
    return 0;
  }
  // Rows sort by time: the pending rows earlier than this one join the history, in order.
  while (!s.pending.empty() && s.pending.front().time < time) {
    PendingRow& p = s.pending.front();
    s.sweep->Add(p.time, p.amounts, p.distinct, p.fresh);
    s.pending.pop_front();
  }
  ReadValues(win, s);
  s.sweep->Compute({time, s.amounts}, s.fresh, s.out.data());
  s.pending.push_back({time, s.amounts, s.distinct, s.fresh});
  return PgCall([&] {
    const size_t n = s.out.size();
    Datum* elements = static_cast<Datum*>(palloc(sizeof(Datum) * (n + 1)));
    bool* nulls = static_cast<bool*>(palloc(sizeof(bool) * (n + 1)));
    for (size_t i = 0; i < n; ++i) {
      nulls[i] = std::isnan(s.out[i]);
      elements[i] = Float8GetDatum(nulls[i] ? 0.0 : s.out[i]);
    }
    int dims[1] = {static_cast<int>(n)};
    int lbs[1] = {1};
    return PointerGetDatum(
        construct_md_array(elements, nulls, 1, dims, lbs, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
  });
}

}  // namespace
}  // namespace glue
}  // namespace pgfraud

extern "C" {

PG_FUNCTION_INFO_V1(fraud_history_window);
// fraud_history_window(spec text, entity_null boolean, time anyelement, amounts float8[],
// distinct text[], new text[]) -> float8[], a window function (see the file comment).
Datum fraud_history_window(PG_FUNCTION_ARGS) {
  return pgfraud::glue::Guard([&] { return pgfraud::glue::HistoryWindow(fcinfo); });
}

}  // extern "C"
