// Reading and writing the pg_fraud.model/1 document (docs/model-document.md).
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "model/model.hpp"

namespace pgfraud {

// The format tag every document carries.
inline constexpr const char* kModelFormat = "pg_fraud.model/1";

// Validates a document and builds its model; throws Error(kInvalidModelDocument) naming the problem.
Model ModelFromJson(const nlohmann::json& doc);

// Parses JSON text into a model; invalid JSON is an invalid document.
Model ParseModelDocument(std::string_view text);

// The canonical document of a model; ModelFromJson(ModelToJson(m)) reproduces m.
nlohmann::json ModelToJson(const Model& model);

}  // namespace pgfraud
