// The monitoring aggregate fraud_monitor(row, model, label, request): one parallel-safe pass
// that scores rows with the active model (or a stored version the request names) and counts what fraud_evaluate, fraud_drift and
// fraud_choose_threshold need; the final function answers the request as jsonb.
#include <memory>
#include <string>

#include "aggregate_state.hpp"
#include "scoring/model_cache.hpp"
#include "evaluation/monitor.hpp"
#include "values/row_values.hpp"
#include "training/training_data.hpp"

namespace pgfraud {
namespace glue {
namespace {

struct MonitorState {
  Monitor monitor;
  std::string model_name, label, request;
  // Transition-only.
  bool ready = false;
  Model reading;  // the model's features, then the label (when there is one)
  RowReader reader{};
  FeatureValue* values = nullptr;
};

// The model a request scores with: the active version, or the stored one its "version" names
// (fraud_retrain evaluates an inactive candidate beside the active version).
const CachedModel& RequestedModel(FunctionCallInfo fcinfo, const std::string& name, const nlohmann::json& request) {
  if (!request.contains("version")) return ActiveModel(fcinfo->flinfo->fn_oid, name);
  const nlohmann::json& v = request["version"];
  if (!v.is_number_integer())
    throw Error(ErrorCode::kInvalidParameterValue, "the request's \"version\" must be an integer");
  return ModelVersion(fcinfo->flinfo->fn_oid, name, v.get<int32>());
}

std::string ArgText(FunctionCallInfo fcinfo, int i) {
  if (PG_ARGISNULL(i)) return std::string();
  text* t = PG_GETARG_TEXT_PP(i);
  return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

void Prepare(FunctionCallInfo fcinfo, MonitorState& state, MemoryContext cxt) {
  state.model_name = ArgText(fcinfo, 2);
  state.label = ArgText(fcinfo, 3);
  if (PG_ARGISNULL(4)) throw Error(ErrorCode::kInvalidParameterValue, "fraud_monitor needs a request object");
  Jsonb* request = PG_GETARG_JSONB_P(4);
  state.request = PgCall([&] { return std::string(JsonbToCString(nullptr, &request->root, VARSIZE(request))); });
  const nlohmann::json req = nlohmann::json::parse(state.request);
  const CachedModel& cached = RequestedModel(fcinfo, state.model_name, req);
  state.monitor = Monitor(cached.model);
  // An alert budget is cut on the rows' exact logits (8 bytes a row in memory).
  state.monitor.keep_logits = req.value("mode", "") == "threshold" && req.contains("strategy") &&
                              req["strategy"].is_object() && req["strategy"].value("strategy", "") == "alert_rate";
  state.reading = cached.model;
  if (!state.label.empty()) {
    Feature label;
    label.name = state.label;
    label.kind = FeatureKind::kBoolean;
    state.reading.features.push_back(label);
  }
  const size_t n = state.reading.features.size();
  state.values =
      PgCall([&] { return static_cast<FeatureValue*>(MemoryContextAllocZero(cxt, sizeof(FeatureValue) * (n + 1))); });
  state.reader.Reset(cxt, n);
  state.ready = true;
}

// The final answer, as JSON text.
std::string Answer(FunctionCallInfo fcinfo, const MonitorState& state) {
  nlohmann::json request = nlohmann::json::parse(state.request);
  const CachedModel& cached = RequestedModel(fcinfo, state.model_name, request);
  const std::string mode = request.value("mode", "evaluate");
  if (mode == "drift") return state.monitor.Drift(cached.model).dump();
  if (mode == "threshold") {
    TrainingOptions options =
        ParseTrainingOptions({{"threshold", request.value("strategy", nlohmann::json::object())}});
    const ThresholdChoice choice = state.monitor.Threshold(options.threshold);
    const std::optional<double> logit = choice.DocumentLogit();
    // How many of these rows the cut flags (the labelled ones, by histogram bin edge, are
    // exact for every strategy but alert_rate, whose figure comes from the kept logits).
    double alerts = 0;
    for (double z : state.monitor.logits) alerts += z >= choice.logit ? 1 : 0;
    nlohmann::json out = {{"threshold", choice.probability},
                          {"threshold_logit", logit ? nlohmann::json(*logit) : nlohmann::json(nullptr)},
                          {"rows", static_cast<int64_t>(state.monitor.rows + state.monitor.null_labels)}};
    if (state.monitor.keep_logits) out["alerts"] = static_cast<int64_t>(alerts);
    return out.dump();
  }
  nlohmann::json out = state.monitor.Evaluation(cached.model);
  out["model"] = cached.name;
  out["version"] = cached.version;
  return out.dump();
}

// A state serialised by fraud_monitor_serialize ('M', header size, CBOR header, counts).
MonitorState* DeserializeMonitor(MemoryContext cxt, bytea* bytes) {
  const auto* data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(bytes)) + 1;
  const size_t size = VARSIZE_ANY_EXHDR(bytes) - 1;
  uint32_t head_size;
  if (VARSIZE_ANY_EXHDR(bytes) < 5) throw Error(ErrorCode::kInternal, "truncated monitoring state");
  memcpy(&head_size, data, 4);
  if (size < 4 + static_cast<size_t>(head_size)) throw Error(ErrorCode::kInternal, "truncated monitoring state");
  nlohmann::json header = nlohmann::json::from_cbor(data + 4, data + 4 + head_size);
  MonitorState* state = NewAggregateState<MonitorState>(cxt);
  state->model_name = header.at("model").get<std::string>();
  state->request = header.at("request").get<std::string>();
  state->monitor = Monitor::Deserialize(data + 4 + head_size, size - 4 - head_size);
  return state;
}

}  // namespace
}  // namespace glue
}  // namespace pgfraud

using pgfraud::glue::Guard;
using pgfraud::glue::MonitorState;

extern "C" {

PG_FUNCTION_INFO_V1(fraud_monitor_step);
// Transition: state, row, model name, label column ('' for none), request.
Datum fraud_monitor_step(PG_FUNCTION_ARGS) {
  CHECK_FOR_INTERRUPTS();
  return Guard([&] {
    MemoryContext cxt = pgfraud::glue::AggregateContext(fcinfo);
    MonitorState* state = PG_ARGISNULL(0) ? pgfraud::glue::NewAggregateState<MonitorState>(cxt)
                                          : reinterpret_cast<MonitorState*>(PG_GETARG_POINTER(0));
    if (!state->ready) pgfraud::glue::Prepare(fcinfo, *state, cxt);
    if (!PG_ARGISNULL(1)) {
      state->reader.Read(state->reading, PG_GETARG_HEAPTUPLEHEADER(1), state->values);
      std::optional<bool> label;
      if (!state->label.empty()) {
        const size_t n = state->reading.features.size();
        label = pgfraud::ReadLabel(state->reading.features[n - 1], state->values[n - 1]);
        if (!label) {
          state->monitor.AddUnlabelled(state->reading, state->values);
          return PointerGetDatum(state);
        }
      }
      state->monitor.Add(state->reading, state->values, label);
    }
    return PointerGetDatum(state);
  });
}

PG_FUNCTION_INFO_V1(fraud_monitor_combine);
Datum fraud_monitor_combine(PG_FUNCTION_ARGS) {
  return Guard([&] {
    return pgfraud::glue::CombineStates<MonitorState>(fcinfo, [](MonitorState& state, MonitorState& other) {
      state.monitor.Merge(other.monitor);
      if (state.model_name.empty()) {
        state.model_name = other.model_name;
        state.request = other.request;
      }
    });
  });
}

PG_FUNCTION_INFO_V1(fraud_monitor_serialize);
Datum fraud_monitor_serialize(PG_FUNCTION_ARGS) {
  return Guard([&] {
    pgfraud::glue::AggregateContext(fcinfo);
    auto* state = reinterpret_cast<MonitorState*>(PG_GETARG_POINTER(0));
    nlohmann::json header = {{"model", state->model_name}, {"request", state->request}};
    std::vector<uint8_t> head = nlohmann::json::to_cbor(header);
    std::vector<uint8_t> body = state->monitor.Serialize();
    std::vector<uint8_t> bytes(4);
    const uint32_t head_size = static_cast<uint32_t>(head.size());
    memcpy(bytes.data(), &head_size, 4);
    bytes.insert(bytes.end(), head.begin(), head.end());
    bytes.insert(bytes.end(), body.begin(), body.end());
    return PointerGetDatum(pgfraud::glue::ToBytea('M', bytes));
  });
}

PG_FUNCTION_INFO_V1(fraud_monitor_deserialize);
Datum fraud_monitor_deserialize(PG_FUNCTION_ARGS) {
  return Guard([&] {
    MemoryContext cxt = pgfraud::glue::AggregateContext(fcinfo);
    bytea* bytes = PG_GETARG_BYTEA_PP(0);
    return PointerGetDatum(pgfraud::glue::DeserializeMonitor(cxt, bytes));
  });
}

PG_FUNCTION_INFO_V1(fraud_monitor_merge_step);
// Transition of fraud_monitor_merge(success, result): merges the partial state one shard's
// fraud_monitor_partial returned (run_command_on_shards: the bytea's text, '\x' and hex) into
// the state; a shard's failure is raised with the worker's message.
Datum fraud_monitor_merge_step(PG_FUNCTION_ARGS) {
  CHECK_FOR_INTERRUPTS();
  return Guard([&] {
    MemoryContext cxt = pgfraud::glue::AggregateContext(fcinfo);
    auto* state = PG_ARGISNULL(0) ? nullptr : reinterpret_cast<MonitorState*>(PG_GETARG_POINTER(0));
    bytea* bytes = pgfraud::glue::ShardState(fcinfo, "a monitoring pass");
    if (bytes == nullptr) {  // a shard without rows
      if (state != nullptr) return PointerGetDatum(state);
      fcinfo->isnull = true;
      return Datum(0);
    }
    MonitorState* other = pgfraud::glue::DeserializeMonitor(cxt, bytes);
    if (state == nullptr) return PointerGetDatum(other);
    state->monitor.Merge(other->monitor);
    return PointerGetDatum(state);
  });
}

PG_FUNCTION_INFO_V1(fraud_monitor_final);
// Final: the answer to the request as jsonb (NULL when there were no rows).
Datum fraud_monitor_final(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0)) PG_RETURN_NULL();
  char* answer = static_cast<char*>(DatumGetPointer(Guard([&] {
    std::string json = pgfraud::glue::Answer(fcinfo, *reinterpret_cast<MonitorState*>(PG_GETARG_POINTER(0)));
    return pgfraud::glue::PgCall([&] { return PointerGetDatum(pstrdup(json.c_str())); });
  })));
  return DirectFunctionCall1(jsonb_in, CStringGetDatum(answer));
}

}  // extern "C"
