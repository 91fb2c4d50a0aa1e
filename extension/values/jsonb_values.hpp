// Reading a model's feature values out of a jsonb object.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/feature_value.hpp"
#include "model/model.hpp"
#include "pg_headers.hpp"

namespace pgfraud {
namespace glue {

// pg_fraud.unknown_keys: what jsonb scoring does about keys that are no feature (nor history
// column) of the model and features without a key: nothing (the default), a WARNING, an error.
enum class UnknownKeys : int { kIgnore = 0, kWarning = 1, kError = 2 };
extern int g_unknown_keys;  // an UnknownKeys, set by the GUC

// Feature indices sorted the way jsonb sorts object keys (shorter first, then bytewise),
// so that one merge pass over an object finds every feature.
std::vector<uint32_t> JsonbKeyOrder(const Model& model);

// Per-call-site memory of JsonbFeatureValues: where each feature's key was, and the key
// layout of the last object, so that a run of objects with the same keys skips the merge.
struct JsonbScratch {
  MemoryContext context;  // where `layout` lives
  int32_t* key_of;        // per feature: index of its key in the last object, or -1
  char* layout;           // the last object's key entries and key bytes
  uint32_t layout_capacity;
  uint32_t layout_size;  // 0: nothing remembered
  uint32_t layout_pairs;
};

// Forgets the remembered layout (the model, and so key_of, changed).
inline void ResetJsonbScratch(JsonbScratch& scratch) { scratch.layout_size = 0; }

// Fills values[i] for each feature of `model` from the object `tx`; strings point into tx.
// `order` is JsonbKeyOrder(model); scratch.key_of has one slot per feature.
// Throws Error when tx is not an object. Holds no C++ object while it calls PostgreSQL.
void JsonbFeatureValues(const Model& model, const std::vector<uint32_t>& order, Jsonb* tx, FeatureValue* values,
                        JsonbScratch& scratch);

// The logit of a model whose features are all numeric, read straight from tx without
// building feature values; false when some value is not a finite JSON number (then the
// caller takes the general path, which reports the problem). The order of summation is
// that of the keys, so the last bits may differ from Model::Logit.
bool NumericLogit(const Model& model, const std::vector<uint32_t>& order, Jsonb* tx, JsonbScratch& scratch,
                  double* logit);

// Parses JSON text (a text argument) into jsonb without quoting it back in an error
// (transaction values stay out of messages): 22P02.
Jsonb* ParseTransactionText(text* json);

}  // namespace glue
}  // namespace pgfraud
