// jsonb -> FeatureValue in two linear passes over the object's entries: a merge of its sorted
// keys with the model's sorted feature names, then a walk over the values that matched.
//
// PostgreSQL's getKeyJsonValueFromContainer binary-searches, and each probe recomputes an
// offset by summing up to 32 entry lengths; with 30 features that was 60% of scoring time.
// The entry layout read here is jsonb's on-disk format (utils/jsonb.h), stable across releases.
#include "values/jsonb_values.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/errors.hpp"
#include "guard.hpp"
#include "values/numeric_decode.hpp"

namespace pgfraud {
namespace glue {

int g_unknown_keys = static_cast<int>(UnknownKeys::kIgnore);

namespace {

// jsonb's key order: by length, then bytes (lengthCompareJsonbString).
// Short keys are compared inline: a call to memcmp for three bytes costs more than the compare.
inline int CompareKeys(const char* a, uint32_t a_len, const char* b, uint32_t b_len) {
  if (a_len != b_len) return a_len < b_len ? -1 : 1;
  if (a_len > 16) return std::memcmp(a, b, a_len);
  for (uint32_t i = 0; i < a_len; ++i) {
    if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]) ? -1 : 1;
  }
  return 0;
}

// The end offset of entry `entry` given the end offset of the entry before it.
inline uint32_t EntryEnd(JEntry entry, uint32_t previous_end) {
  return JBE_HAS_OFF(entry) ? JBE_OFFLENFLD(entry) : previous_end + JBE_OFFLENFLD(entry);
}

// Converts one stored value (entry, data at base + start .. end) for a feature of `kind`.
void EntryInto(JEntry entry, const char* base, uint32_t start, uint32_t end, FeatureKind kind, FeatureValue& out) {
  if (JBE_ISSTRING(entry)) {
    out.SetText(std::string_view(base + start, end - start));
  } else if (JBE_ISNUMERIC(entry)) {
    Numeric number = reinterpret_cast<Numeric>(const_cast<char*>(base + INTALIGN(start)));
    if (kind == FeatureKind::kCategorical) {
      // A category written as a number (an MCC code, say) is matched by its text.
      out.SetText(DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(number))));
    } else {
      out.SetNumber(NumericToDouble(number));
    }
  } else if (JBE_ISBOOL_TRUE(entry)) {
    out.SetBool(true);
  } else if (JBE_ISBOOL_FALSE(entry)) {
    out.SetBool(false);
  } else if (JBE_ISNULL(entry)) {
    out.SetMissing();
  } else {
    const JsonbContainer* inner = reinterpret_cast<const JsonbContainer*>(base + INTALIGN(start));
    out.SetOther(JsonContainerIsObject(inner) ? "an object" : "an array");
  }
}

// Pass 1: merges the object's sorted keys with the sorted feature names into key_of;
// returns the end offset of the last key.
uint32_t MatchKeys(const Model& model, const std::vector<uint32_t>& order, const JEntry* entries, uint32_t pairs,
                   const char* base, int32_t* key_of) {
  const size_t n = order.size();
  size_t next = 0;
  uint32_t end = 0;
  for (uint32_t k = 0; k < pairs; ++k) {
    const uint32_t start = end;
    end = EntryEnd(entries[k], end);
    while (next < n) {
      const std::string& name = model.features[order[next]].name;
      int cmp = CompareKeys(name.data(), name.size(), base + start, end - start);
      if (cmp > 0) break;
      key_of[order[next]] = cmp == 0 ? static_cast<int32_t>(k) : -1;
      ++next;
    }
  }
  for (; next < n; ++next) key_of[order[next]] = -1;
  return end;
}

// True when the object's keys (entries and bytes) are those remembered in scratch.
bool SameLayout(const JsonbScratch& scratch, const JEntry* entries, uint32_t pairs, const char* base) {
  if (scratch.layout_size == 0 || scratch.layout_pairs != pairs) return false;
  const size_t entry_bytes = sizeof(JEntry) * pairs;
  if (std::memcmp(scratch.layout, entries, entry_bytes) != 0) return false;
  return std::memcmp(scratch.layout + entry_bytes, base, scratch.layout_size - entry_bytes) == 0;
}

// Remembers the object's key layout for the next call.
void RememberLayout(JsonbScratch& scratch, const JEntry* entries, uint32_t pairs, const char* base, uint32_t keys_end) {
  const size_t entry_bytes = sizeof(JEntry) * pairs;
  const size_t size = entry_bytes + keys_end;
  if (size > 64 * 1024) {  // huge objects are not worth remembering
    scratch.layout_size = 0;
    return;
  }
  if (size > scratch.layout_capacity) {
    scratch.layout_size = 0;
    char* old = scratch.layout;
    scratch.layout = PgCall([&scratch, size, old] {
      if (old != nullptr) pfree(old);
      return static_cast<char*>(MemoryContextAlloc(scratch.context, size));
    });
    scratch.layout_capacity = static_cast<uint32_t>(size);
  }
  std::memcpy(scratch.layout, entries, entry_bytes);
  std::memcpy(scratch.layout + entry_bytes, base, keys_end);
  scratch.layout_size = static_cast<uint32_t>(size);
  scratch.layout_pairs = pairs;
}

}  // namespace

std::vector<uint32_t> JsonbKeyOrder(const Model& model) {
  std::vector<uint32_t> order(model.features.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&model](uint32_t a, uint32_t b) {
    const std::string& x = model.features[a].name;
    const std::string& y = model.features[b].name;
    return CompareKeys(x.data(), x.size(), y.data(), y.size()) < 0;
  });
  return order;
}

namespace {

// An object whose keys have been matched to the model's features (scratch.key_of).
struct MatchedObject {
  const JEntry* entries;
  uint32_t pairs;
  const char* base;
  uint32_t keys_end;  // end offset of the last key: where the first value starts
};

// Under pg_fraud.unknown_keys: reports the object's keys that are no feature and no history
// column of the model, and the features it has no key for (names only, never values).
void CheckKeys(const Model& model, const MatchedObject& m, const int32_t* key_of) {
  std::vector<bool> known(m.pairs, false);
  std::string missing;
  for (size_t f = 0; f < model.features.size(); ++f) {
    if (key_of[f] >= 0) {
      known[static_cast<size_t>(key_of[f])] = true;
    } else if (model.features[f].history < 0) {
      missing += (missing.empty() ? "\"" : ", \"") + model.features[f].name + "\"";
    }
  }
  std::string unknown;
  uint32_t end = 0;
  for (uint32_t k = 0; k < m.pairs; ++k) {
    const uint32_t start = end;
    end = EntryEnd(m.entries[k], end);
    if (known[k]) continue;
    const std::string key(m.base + start, end - start);
    bool history_column = false;
    if (model.history) {
      const HistorySpec& h = *model.history;
      history_column = key == h.time;
      for (const std::vector<std::string>* list : {&h.by, &h.amounts, &h.distinct, &h.fresh}) {
        for (const std::string& c : *list) history_column = history_column || key == c;
      }
    }
    if (!history_column) unknown += (unknown.empty() ? "\"" : ", \"") + key + "\"";
  }
  if (unknown.empty() && missing.empty()) return;
  std::string message = "transaction does not match the model's features:";
  if (!unknown.empty()) message += " unknown keys " + unknown;
  if (!missing.empty()) message += std::string(unknown.empty() ? "" : ";") + " no key for " + missing;
  const char* hint = "Keys are case-sensitive and must name the model's features (pg_fraud.unknown_keys).";
  if (g_unknown_keys == static_cast<int>(UnknownKeys::kError))
    throw Error(ErrorCode::kInvalidParameterValue, message, hint);
  PgCall([&] {
    ereport(WARNING, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s", message.c_str()), errhint("%s", hint)));
  });
}

// Checks that tx is an object and matches its keys (pass 1, or the remembered layout).
MatchedObject MatchObject(const Model& model, const std::vector<uint32_t>& order, Jsonb* tx, JsonbScratch& scratch) {
  if (!JB_ROOT_IS_OBJECT(tx)) {
    throw Error(ErrorCode::kInvalidParameterValue, "transaction must be a JSON object",
                "Pass one object with a key per feature, for example {\"amount\": 12.5}.");
  }
  const JsonbContainer* container = &tx->root;
  MatchedObject m;
  m.pairs = JsonContainerSize(container);
  m.entries = container->children;
  m.base = reinterpret_cast<const char*>(&m.entries[2 * m.pairs]);
  if (SameLayout(scratch, m.entries, m.pairs, m.base)) {
    m.keys_end = scratch.layout_size - static_cast<uint32_t>(sizeof(JEntry) * m.pairs);  // key_of still holds
  } else {
    m.keys_end = MatchKeys(model, order, m.entries, m.pairs, m.base, scratch.key_of);
    RememberLayout(scratch, m.entries, m.pairs, m.base, m.keys_end);
  }
  if (g_unknown_keys != static_cast<int>(UnknownKeys::kIgnore)) CheckKeys(model, m, scratch.key_of);
  return m;
}

// Pass 2: walks the values in order and calls visit(feature, entry, start, end) for each
// feature whose key matched; stops early, returning false, when visit does.
template <typename Visit>
bool VisitMatched(const MatchedObject& m, const std::vector<uint32_t>& order, const int32_t* key_of, Visit visit) {
  const size_t n = order.size();
  size_t next = 0;
  while (next < n && key_of[order[next]] < 0) ++next;
  uint32_t end = m.keys_end;
  for (uint32_t v = 0; v < m.pairs && next < n; ++v) {
    const uint32_t start = end;
    const JEntry entry = m.entries[m.pairs + v];
    end = EntryEnd(entry, end);
    while (next < n && key_of[order[next]] <= static_cast<int32_t>(v)) {
      const uint32_t f = order[next++];
      if (key_of[f] >= 0 && !visit(f, entry, start, end)) return false;
    }
  }
  return true;
}

}  // namespace

void JsonbFeatureValues(const Model& model, const std::vector<uint32_t>& order, Jsonb* tx, FeatureValue* values,
                        JsonbScratch& scratch) {
  const MatchedObject m = MatchObject(model, order, tx, scratch);
  for (size_t f = 0; f < order.size(); ++f) values[f].SetMissing();
  VisitMatched(m, order, scratch.key_of, [&](uint32_t f, JEntry entry, uint32_t start, uint32_t end) {
    EntryInto(entry, m.base, start, end, model.features[f].kind, values[f]);
    return true;
  });
}

bool NumericLogit(const Model& model, const std::vector<uint32_t>& order, Jsonb* tx, JsonbScratch& scratch,
                  double* logit) {
  const MatchedObject m = MatchObject(model, order, tx, scratch);
  double z = model.intercept;  // missing features add 0: they are imputed with the mean
  const bool numeric = VisitMatched(m, order, scratch.key_of, [&](uint32_t f, JEntry entry, uint32_t start, uint32_t) {
    if (!JBE_ISNUMERIC(entry)) return false;
    const double x = NumericToDouble(reinterpret_cast<Numeric>(const_cast<char*>(m.base + INTALIGN(start))));
    if (!std::isfinite(x)) return false;
    const Feature& feature = model.features[f];
    z += feature.per_unit * (Transformed(feature, x) - feature.mean);
    return true;
  });
  *logit = z;
  return numeric;
}

// Parses JSON text without quoting it back in an error: transaction values stay out of messages.
Jsonb* ParseTransactionText(text* json) {
  try {
    return PgCall(
        [json] { return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text_to_cstring(json)))); });
  } catch (const PgException&) {
    throw Error(ErrorCode::kInvalidTextRepresentation, "transaction is not valid JSON",
                "fraud_score(text) and fraud_explain(text) take the text of one JSON object.");
  }
}

}  // namespace glue
}  // namespace pgfraud
