// Rule evaluation through PostgreSQL's own jsonpath engine (jsonb_path_match).
#include "scoring/rules.hpp"

#include "guard.hpp"

namespace pgfraud {
namespace glue {
namespace {

// jsonb_path_match(tx, path, '{}', silent => true): true, false, or NULL as *isnull.
bool MatchPath(Jsonb* tx, Datum path, bool* isnull) {
  static Jsonb* empty_vars = nullptr;
  if (empty_vars == nullptr) {
    MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
    empty_vars = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));
    MemoryContextSwitchTo(old);
  }
  LOCAL_FCINFO(fcinfo, 4);
  InitFunctionCallInfoData(*fcinfo, nullptr, 4, InvalidOid, nullptr, nullptr);
  fcinfo->args[0].value = JsonbPGetDatum(tx);
  fcinfo->args[0].isnull = false;
  fcinfo->args[1].value = path;
  fcinfo->args[1].isnull = false;
  fcinfo->args[2].value = JsonbPGetDatum(empty_vars);
  fcinfo->args[2].isnull = false;
  fcinfo->args[3].value = BoolGetDatum(true);
  fcinfo->args[3].isnull = false;
  Datum result = jsonb_path_match(fcinfo);
  *isnull = fcinfo->isnull;
  return !fcinfo->isnull && DatumGetBool(result);
}

}  // namespace

RuleVerdict EvaluateRules(const CachedModel& model, Jsonb* tx, std::vector<const char*>* fired,
                          std::vector<const char*>* errored) {
  RuleVerdict verdict;
  for (const CachedRule& rule : model.rules) {
    bool isnull = false;
    const bool matched = PgCall([&] { return MatchPath(tx, rule.path, &isnull); });
    if (isnull) {
      ++verdict.skipped;
      if (errored != nullptr) errored->push_back(rule.name.c_str());
      continue;
    }
    if (!matched) continue;
    (rule.allow ? verdict.allow : verdict.flag) = true;
    if (fired != nullptr) fired->push_back(rule.name.c_str());
  }
  return verdict;
}

}  // namespace glue
}  // namespace pgfraud
