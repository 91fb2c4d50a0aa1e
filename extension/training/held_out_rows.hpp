// Metrics of a model on held-out rows read through a query (a time holdout, a holdout column).
#pragma once

#include <string>

#include "evaluation/metrics.hpp"
#include "model/model.hpp"
#include "pg_headers.hpp"

namespace pgfraud {
namespace glue {

// Metrics of `model` at its threshold on the labelled rows of `from` (a FROM item), each row
// read as the trigger reads it (history columns included when `from` has them); the rows
// counted into *rows_out.
Metrics EvaluateRows(const std::string& from, const Model& model, const std::string& label, double* rows_out);

}  // namespace glue
}  // namespace pgfraud
