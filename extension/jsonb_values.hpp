// Reading a model's feature values out of a jsonb object.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "feature_value.hpp"
#include "model.hpp"
#include "pg_headers.hpp"

namespace pgfraud {
namespace glue {

// Feature indices sorted the way jsonb sorts object keys (shorter first, then bytewise),
// so that one merge pass over an object finds every feature.
std::vector<uint32_t> JsonbKeyOrder(const Model& model);

// Fills values[i] for each feature of `model` from the object `tx`; strings point into tx.
// `order` is JsonbKeyOrder(model); `scratch` has one slot per feature.
// Throws Error when tx is not an object. Holds no C++ object while it calls PostgreSQL.
void JsonbFeatureValues(const Model& model, const std::vector<uint32_t>& order, Jsonb* tx,
                        FeatureValue* values, int32_t* scratch);

}  // namespace glue
}  // namespace pgfraud
