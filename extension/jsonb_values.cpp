// jsonb -> FeatureValue: one keyed lookup per feature, numbers decoded without text round trips.
#include "jsonb_values.hpp"

#include "errors.hpp"
#include "numeric_decode.hpp"

namespace pgfraud {
namespace glue {
namespace {

// Converts one jsonb value for a feature of the given kind.
FeatureValue FromJsonbValue(const JsonbValue& v, FeatureKind kind) {
  switch (v.type) {
    case jbvNull:
      return FeatureValue::Missing();
    case jbvString:
      return FeatureValue::Text(std::string_view(v.val.string.val, static_cast<size_t>(v.val.string.len)));
    case jbvBool:
      return FeatureValue::Bool(v.val.boolean);
    case jbvNumeric:
      if (kind == FeatureKind::kCategorical) {
        // A category written as a number (an MCC code, say) is matched by its text.
        char* text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v.val.numeric)));
        return FeatureValue::Text(text);
      }
      return FeatureValue::Number(NumericToDouble(v.val.numeric));
    case jbvBinary:
      return FeatureValue::Other(JsonContainerIsObject(v.val.binary.data) ? "an object" : "an array");
    default:
      return FeatureValue::Other("an unsupported JSON value");
  }
}

}  // namespace

void JsonbFeatureValues(const Model& model, Jsonb* tx, FeatureValue* values) {
  if (!JB_ROOT_IS_OBJECT(tx) || JB_ROOT_IS_SCALAR(tx)) {
    throw Error(ErrorCode::kInvalidParameterValue, "transaction must be a JSON object",
                "Pass one object with a key per feature, for example {\"amount\": 12.5}.");
  }
  const size_t n = model.features.size();
  for (size_t i = 0; i < n; ++i) {
    const Feature& f = model.features[i];
    JsonbValue found;
    if (getKeyJsonValueFromContainer(&tx->root, f.name.data(), static_cast<int>(f.name.size()), &found) == nullptr) {
      values[i] = FeatureValue::Missing();
    } else {
      values[i] = FromJsonbValue(found, f.kind);
    }
  }
}

}  // namespace glue
}  // namespace pgfraud
