// Reading a model's feature values out of a jsonb object.
#pragma once

#include "feature_value.hpp"
#include "model.hpp"
#include "pg_headers.hpp"

namespace pgfraud {
namespace glue {

// Fills values[i] for each feature of `model` from the object `tx`; strings point into tx.
// Throws Error when tx is not an object. Holds no C++ object while it calls PostgreSQL.
void JsonbFeatureValues(const Model& model, Jsonb* tx, FeatureValue* values);

}  // namespace glue
}  // namespace pgfraud
