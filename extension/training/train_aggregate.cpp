// The training pass aggregates: one pass of statistics or of Newton sums over the rows they
// are given, with combine/serialize/deserialize so that a parallel plan splits the pass across
// workers. fraud_train_columns(spec, VARIADIC "any") takes the columns as arguments (no
// whole-row datum to build and take apart: a third of a pass); fraud_train_pass(row, spec)
// takes the whole row, for sources with more columns than a function has arguments.
//
// The state is a C++ object owned by the aggregate's memory context: a reset callback
// deletes it when the context goes, so an error or a cancel leaks nothing.
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "common/errors.hpp"
#include "aggregate_state.hpp"
#include "guard.hpp"
#include "values/row_values.hpp"
#include "training/pass_handover.hpp"
#include "training/statistics_pipeline.hpp"
#include "training/table_scan.hpp"
#include "linear/trainer.hpp"

namespace pgfraud {
namespace glue {
namespace {

struct PassState {
  bool newton = false;
  TrainingStats stats;
  NewtonAccumulator newton_sums;
  // Transition-only: the parsed spec and the row reader (not serialised).
  std::unique_ptr<PassContext> context;
  // The statistics being added on a thread (spec "pipeline"); declared after the context it
  // reads, so it is stopped first. `stats` is read only after FinishStatistics.
  std::unique_ptr<StatisticsPipeline> pipeline;
  std::string spec_text;
  const void* spec_pointer = nullptr;  // the spec datum of the last row: a Const is one pointer
  RowReader reader{};
  ArgumentReader arguments{};
  FeatureValue* values = nullptr;
};

// Starts adding rows on a thread of their own; false (rows added here) when no thread can be had.
bool StartPipeline(PassState& state) {
  try {
    state.pipeline = std::make_unique<StatisticsPipeline>(*state.context, state.context->NewStatistics(false),
                                                          state.context->spec().expected_rows);
    return true;
  } catch (const std::system_error&) {
    return false;
  }
}

// Parses the spec on the first row (and again only if a later row brings another spec).
void EnsureContext(PassState& state, text* spec, MemoryContext cxt) {
  if (state.context && state.spec_pointer == spec) return;
  std::string_view given(VARDATA_ANY(spec), VARSIZE_ANY_EXHDR(spec));
  state.spec_pointer = spec;
  if (state.context && given == state.spec_text) return;
  state.spec_text.assign(given);
  state.pipeline.reset();
  PassSpec parsed = PassSpec::FromJson(nlohmann::json::parse(state.spec_text));
  state.newton = parsed.newton;
  state.context = std::make_unique<PassContext>(std::move(parsed));
  const Model& reading = state.context->reading();
  if (state.newton) {
    state.newton_sums = NewtonAccumulator(state.context->spec().encoding.dim, state.context->spec().with_hessian);
    state.newton_sums.scores = state.context->spec().scores;
  } else if (!state.context->spec().pipeline || !StartPipeline(state)) {
    state.stats = state.context->NewStatistics();
  }
  const size_t n = reading.features.size();
  state.values =
      PgCall([&] { return static_cast<FeatureValue*>(MemoryContextAllocZero(cxt, sizeof(FeatureValue) * (n + 1))); });
  state.reader.Reset(cxt, n);
  state.arguments.Reset(cxt, n);
}

// The state for this call of a transition function, its spec parsed.
PassState& StepState(FunctionCallInfo fcinfo, int spec_argument) {
  MemoryContext cxt = AggregateContext(fcinfo);
  PassState* state =
      PG_ARGISNULL(0) ? NewAggregateState<PassState>(cxt) : reinterpret_cast<PassState*>(PG_GETARG_POINTER(0));
  if (PG_ARGISNULL(spec_argument)) throw Error(ErrorCode::kInvalidParameterValue, "a training pass needs a spec");
  EnsureContext(*state, PG_GETARG_TEXT_PP(spec_argument), cxt);
  return *state;
}

void AddRow(PassState& state, uint64_t position = RowSplit::kNoPosition) {
  if (state.newton) {
    state.context->AddToNewton(state.newton_sums, state.values, position);
  } else if (state.pipeline) {
    state.pipeline->Add(state.values, position);
  } else {
    state.context->AddToStatistics(state.stats, state.values, position);
  }
}

// The position of the row whose values start at argument `first`: the tuple id passed after
// them when the spec holds out by row position (PassQuery).
uint64_t RowPosition(const PassState& state, FunctionCallInfo fcinfo, int first) {
  const std::optional<RowSplit>& split = state.context->spec().row_split;
  if (!split) return RowSplit::kNoPosition;
  const int at = first + static_cast<int>(state.context->reading().features.size());
  if (split->marked) {  // the row's side: a boolean after the columns (NULL: trains)
    if (at >= PG_NARGS() || get_fn_expr_argtype(fcinfo->flinfo, at) != BOOLOID) {
      throw Error(ErrorCode::kInternal, "a training pass held out by a marker has no marker");
    }
    return !PG_ARGISNULL(at) && PG_GETARG_BOOL(at) ? 1 : 0;
  }
  if (at >= PG_NARGS() || PG_ARGISNULL(at) || get_fn_expr_argtype(fcinfo->flinfo, at) != TIDOID) {
    throw Error(ErrorCode::kInternal, "a training pass held out by row position has no tuple id");
  }
  return TuplePosition(*reinterpret_cast<ItemPointer>(DatumGetPointer(PG_GETARG_DATUM(at))));  // tid: by reference
}

// Waits for the rows still being added on the pipeline's thread: before `stats` is read.
void FinishStatistics(PassState& state) {
  if (!state.pipeline) return;
  state.stats = state.pipeline->Finish();
  state.pipeline.reset();
}

bytea* Serialize(PassState& state) {
  FinishStatistics(state);
  return ToBytea(state.newton ? 'N' : 'S', state.newton ? state.newton_sums.Serialize() : state.stats.Serialize());
}

void MergeInto(PassState& state, PassState& other) {
  if (state.newton) {
    state.newton_sums.Merge(other.newton_sums);
  } else {
    FinishStatistics(state);
    FinishStatistics(other);
    state.stats.Merge(other.stats);
  }
}

// A state from its serialised bytes (a kind byte, then CBOR), in the aggregate context.
PassState* Deserialize(MemoryContext cxt, const uint8_t* data, size_t size) {
  if (size < 1) throw Error(ErrorCode::kInternal, "empty training state");
  PassState* state = NewAggregateState<PassState>(cxt);
  state->newton = data[0] == 'N';
  if (state->newton) {
    state->newton_sums = NewtonAccumulator::Deserialize(data + 1, size - 1);
  } else {
    state->stats = TrainingStats::Deserialize(data + 1, size - 1);
  }
  return state;
}

}  // namespace
}  // namespace glue
}  // namespace pgfraud

using pgfraud::glue::Guard;
using pgfraud::glue::PassState;

extern "C" {

PG_FUNCTION_INFO_V1(fraud_train_pass_step);
// Transition: adds one row. Arguments: state, row, spec (JSON text).
Datum fraud_train_pass_step(PG_FUNCTION_ARGS) {
  CHECK_FOR_INTERRUPTS();  // before any C++ object exists: a cancel here unwinds nothing
  return Guard([&] {
    PassState& state = pgfraud::glue::StepState(fcinfo, 2);
    if (!PG_ARGISNULL(1)) {
      state.reader.Read(state.context->reading(), PG_GETARG_HEAPTUPLEHEADER(1), state.values);
      pgfraud::glue::AddRow(state);
    }
    return PointerGetDatum(&state);
  });
}

PG_FUNCTION_INFO_V1(fraud_train_columns_step);
// Transition: adds one row. Arguments: state, spec (JSON text), then one value per column of
// the spec, the label last.
Datum fraud_train_columns_step(PG_FUNCTION_ARGS) {
  CHECK_FOR_INTERRUPTS();
  return Guard([&] {
    PassState& state = pgfraud::glue::StepState(fcinfo, 1);
    if (state.pipeline) {  // the values go straight into the pipeline's batch
      pgfraud::StatisticsPipeline& pipeline = *state.pipeline;
      state.arguments.ReadInto(state.context->reading(), fcinfo, 2,
                               [&pipeline](size_t i, const pgfraud::FeatureValue& v) { pipeline.Set(i, v); });
      pipeline.EndRow(pgfraud::glue::RowPosition(state, fcinfo, 2));
    } else {
      state.arguments.Read(state.context->reading(), fcinfo, 2, state.values);
      pgfraud::glue::AddRow(state, pgfraud::glue::RowPosition(state, fcinfo, 2));
    }
    return PointerGetDatum(&state);
  });
}

PG_FUNCTION_INFO_V1(fraud_train_pass_combine);
// Combine: merges the second state into the first.
Datum fraud_train_pass_combine(PG_FUNCTION_ARGS) {
  return Guard([&] { return pgfraud::glue::CombineStates<PassState>(fcinfo, pgfraud::glue::MergeInto); });
}

PG_FUNCTION_INFO_V1(fraud_train_pass_serialize);
// Serialize: the state as bytea (a kind byte, then CBOR).
Datum fraud_train_pass_serialize(PG_FUNCTION_ARGS) {
  return Guard([&] {
    pgfraud::glue::AggregateContext(fcinfo);
    return PointerGetDatum(pgfraud::glue::Serialize(*reinterpret_cast<PassState*>(PG_GETARG_POINTER(0))));
  });
}

PG_FUNCTION_INFO_V1(fraud_train_pass_deserialize);
// Deserialize: a new state in the aggregate context from bytea.
Datum fraud_train_pass_deserialize(PG_FUNCTION_ARGS) {
  return Guard([&] {
    MemoryContext cxt = pgfraud::glue::AggregateContext(fcinfo);
    bytea* bytes = PG_GETARG_BYTEA_PP(0);
    const auto* data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(bytes));
    return PointerGetDatum(pgfraud::glue::Deserialize(cxt, data, VARSIZE_ANY_EXHDR(bytes)));
  });
}

PG_FUNCTION_INFO_V1(fraud_train_merge_step);
// Transition of fraud_train_merge(success, result): merges the state one shard's pass returned
// (run_command_on_shards: the bytea's text, '\x' and hex) into the state; a shard's failure
// is raised with the worker's message.
Datum fraud_train_merge_step(PG_FUNCTION_ARGS) {
  CHECK_FOR_INTERRUPTS();
  return Guard([&] {
    MemoryContext cxt = pgfraud::glue::AggregateContext(fcinfo);
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<PassState*>(PG_GETARG_POINTER(0));
    bytea* bytes = pgfraud::glue::ShardState(fcinfo, "a training pass");
    if (bytes == nullptr) {  // a shard without rows
      if (state != nullptr) return PointerGetDatum(state);
      fcinfo->isnull = true;
      return Datum(0);
    }
    PassState* other =
        pgfraud::glue::Deserialize(cxt, reinterpret_cast<const uint8_t*>(VARDATA_ANY(bytes)), VARSIZE_ANY_EXHDR(bytes));
    if (state == nullptr) return PointerGetDatum(other);
    pgfraud::glue::MergeInto(*state, *other);
    return PointerGetDatum(state);
  });
}

PG_FUNCTION_INFO_V1(fraud_train_pass_final);
// Final: the serialised state, which train_fraud_model reads back; the statistics of its
// passes (spec "hand_over") stay in this backend instead, and the result only says so.
Datum fraud_train_pass_final(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0)) PG_RETURN_NULL();
  return Guard([&] {
    PassState& state = *reinterpret_cast<PassState*>(PG_GETARG_POINTER(0));
    pgfraud::glue::FinishStatistics(state);
    if (state.newton || !state.stats.hand_over) return PointerGetDatum(pgfraud::glue::Serialize(state));
    state.stats.TrimWhole();  // as Serialize does: warm_start_rows whole rows, not the candidates
    pgfraud::glue::HandOverStatistics(std::move(state.stats));
    return PointerGetDatum(pgfraud::glue::ToBytea('S', {static_cast<uint8_t>(pgfraud::glue::kHandedOver)}));
  });
}

}  // extern "C"
