// libFuzzer target over the core's model-document parser (logistic regression, gradient-boosted
// trees, XGBoost JSON), feature encoding, value parsing, scoring and explaining.
// The input is split at the first NUL: a model document, then values for its features.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "linear/encoding.hpp"
#include "common/errors.hpp"
#include "model/model_document.hpp"
#include "training/training_data.hpp"
#include "common/value_parsing.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  std::string_view document = input.substr(0, split);
  std::string_view rest = split == std::string_view::npos ? std::string_view() : input.substr(split + 1);

  // Free-standing parsers: any text is an answer or a pgfraud::Error, never a crash.
  try { pgfraud::ParseNumber(rest, "f"); } catch (const pgfraud::Error&) {}
  try { pgfraud::ParseBool(rest, "f"); } catch (const pgfraud::Error&) {}
  try { pgfraud::ParseDateTime(rest, "f"); } catch (const pgfraud::Error&) {}

  pgfraud::Model model;
  try {
    model = pgfraud::ParseModelDocument(document);
  } catch (const pgfraud::Error&) {
    return 0;
  }
  // Round trip of a valid document.
  pgfraud::Model again = pgfraud::ModelFromJson(pgfraud::ModelToJson(model));
  (void)again;

  // Values cut from the rest of the input, of every kind, scored and explained.
  std::vector<std::string> pieces;
  size_t start = 0;
  for (size_t i = 0; i <= rest.size(); ++i) {
    if (i == rest.size() || rest[i] == '\n') {
      pieces.emplace_back(rest.substr(start, i - start));
      start = i + 1;
    }
  }
  std::vector<pgfraud::FeatureValue> values;
  if (pieces.empty()) pieces.emplace_back();
  for (size_t i = 0; i < model.features.size(); ++i) {
    const std::string& piece = pieces[i % pieces.size()];  // values view into `pieces`
    switch (piece.empty() ? 0 : static_cast<unsigned char>(piece[0]) % 5) {
      case 0: values.push_back(pgfraud::FeatureValue::Missing()); break;
      case 1: values.push_back(pgfraud::FeatureValue::Text(piece)); break;
      case 2: values.push_back(pgfraud::FeatureValue::Bool(piece.size() % 2 == 0)); break;
      case 3: {
        double x = 0;
        for (char c : piece) x = x * 31 + static_cast<unsigned char>(c) - 128;
        values.push_back(pgfraud::FeatureValue::Number(x));
        break;
      }
      default: values.push_back(pgfraud::FeatureValue::Other("an object")); break;
    }
  }
  try {
    double score = model.Score(values.data());
    if (!(score >= 0.0 && score <= 1.0)) __builtin_trap();  // a score is a probability
    model.Contributions(values.data());
  } catch (const pgfraud::Error&) {
  }
  (void)pgfraud::RowHash(values.data(), values.size(), 7);
  return 0;
}
