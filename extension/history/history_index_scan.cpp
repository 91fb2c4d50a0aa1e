// Direct B-tree scans for the trigger's history lookups (see the header).
#include "history/history_index_scan.hpp"

#include <algorithm>
#include <cmath>

#include "history/history_sql.hpp"
#include "values/numeric_decode.hpp"
#include "values/row_values.hpp"

extern "C" {
#include "access/nbtree.h"
#include "access/relscan.h"
#include "access/visibilitymap.h"
#include "catalog/pg_am.h"
#include "executor/tuptable.h"
#include "utils/fmgroids.h"
}

namespace pgfraud {
namespace glue {
namespace {

AttrNumber HeapAttribute(Relation heap, const std::string& name) { return ExactAttribute(RelationGetDescr(heap), name); }

// The comparison procedure of `strategy` in index key `key` for a value of `type`; InvalidOid
// when the operator family has none.
RegProcedure KeyProc(Relation index, int key, Oid type, int16 strategy) {
  const Oid op = get_opfamily_member(index->rd_opfamily[key], index->rd_opcintype[key], type, strategy);
  return OidIsValid(op) ? get_opcode(op) : InvalidOid;
}

// A plain btree with no expression or predicate whose first keys are these attributes.
bool LeadingKeys(Relation index, AttrNumber first, AttrNumber second) {
  const Form_pg_index form = index->rd_index;
  return index->rd_rel->relam == BTREE_AM_OID && form->indisvalid && form->indisready && form->indnkeyatts >= 2 &&
         heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, nullptr) &&
         heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, nullptr) && form->indkey.values[0] == first &&
         form->indkey.values[1] == second;
}

}  // namespace

double AmountValue(Oid type, Datum d) {
  switch (type) {
    case INT2OID: return DatumGetInt16(d);
    case INT4OID: return DatumGetInt32(d);
    case INT8OID: return static_cast<double>(DatumGetInt64(d));
    case FLOAT4OID: return DatumGetFloat4(d);
    case FLOAT8OID: return DatumGetFloat8(d);
    // numeric: decoded from its digits, as the row readers do (the double ::float8 gives for
    // up to 13 significant digits, within 2 ulp beyond; see values/numeric_decode.hpp).
    default: return NumericToDouble(reinterpret_cast<Numeric>(pg_detoast_datum_packed(
        reinterpret_cast<struct varlena*>(DatumGetPointer(d)))));
  }
}

namespace {

// Where a scan's row values come from: the index tuple when its page is all-visible and the
// index holds every wanted column (an index-only scan, as nodeIndexonlyscan.c does it), else
// the heap tuple.
struct RowSource {
  IndexScanDesc scan;
  TupleTableSlot* slot;
  const std::vector<int>* positions;  // per heap attribute number: its index column (1-based), 0 none
  bool from_index;

  Datum Get(AttrNumber att, bool* isnull) const {
    if (from_index) return index_getattr(scan->xs_itup, (*positions)[att], scan->xs_itupdesc, isnull);
    return slot_getattr(slot, att, isnull);
  }
};

// The index column of each heap attribute (0: not in the index), sized for the heap.
std::vector<int> IndexPositions(Relation heap, Relation index) {
  std::vector<int> out(RelationGetDescr(heap)->natts + 1, 0);
  for (int i = 0; i < index->rd_index->indnatts; ++i) {
    const AttrNumber att = index->rd_index->indkey.values[i];
    if (att > 0) out[att] = i + 1;
  }
  return out;
}

// One scan of `index` with `keys`, calling row(source) per visible tuple until it returns
// false; `wanted` lists the heap attributes row reads.
template <typename Row>
void Scan(Relation heap, Relation index, const std::vector<int>& positions, Snapshot snapshot, ScanKeyData* keys,
          int nkeys, ScanDirection direction, TupleTableSlot* slot,
          std::initializer_list<const std::vector<AttrNumber>*> wanted, Row&& row) {
  bool covered = true;
  for (const std::vector<AttrNumber>* list : wanted) {
    for (AttrNumber a : *list) covered = covered && positions[a] > 0;
  }
  IndexScanDesc scan = index_beginscan(heap, index, snapshot, nkeys, 0);
  scan->xs_want_itup = covered;
  index_rescan(scan, keys, nkeys, nullptr, 0);
  Buffer vm = InvalidBuffer;
  RowSource source{scan, slot, &positions, false};
  ItemPointer tid;
  while ((tid = index_getnext_tid(scan, direction)) != nullptr) {
    source.from_index = covered && VM_ALL_VISIBLE(heap, ItemPointerGetBlockNumber(tid), &vm);
    if (!source.from_index && !index_fetch_heap(scan, slot)) continue;  // not visible to the snapshot
    source.from_index = covered;  // a visible tuple's values are the index tuple's too
    const bool more = row(source);
    if (!covered) ExecClearTuple(slot);
    if (!more) break;
  }
  if (vm != InvalidBuffer) ReleaseBuffer(vm);
  index_endscan(scan);
}

}  // namespace

std::string ValueText(Oid type, Datum value) {
  switch (type) {
    case TEXTOID: case VARCHAROID: case BPCHAROID: {
      // Read in place (short values are not copied into a palloc'd C string first).
      struct varlena* v = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(value)));
      std::string_view s(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
      if (type == BPCHAROID) {
        while (!s.empty() && s.back() == ' ') s.remove_suffix(1);  // as ::text drops the padding
      }
      return std::string(s);
    }
    case BOOLOID: return DatumGetBool(value) ? "true" : "false";
    default: {
      Oid output;
      bool varlena;
      getTypeOutputInfo(type, &output, &varlena);
      return std::string(OidOutputFunctionCall(output, value));
    }
  }
}

bool PlanDirectScan(Oid relid, const HistorySpec& spec, size_t entity, Oid entity_type, Oid time_type,
                    const std::vector<Oid>& fresh_types, DirectEntityScan* out) {
  Relation heap = table_open(relid, AccessShareLock);
  bool ok = heap->rd_rel->relkind == RELKIND_RELATION && heap->rd_tableam == GetHeapamTableAmRoutine() &&
            !heap->rd_rel->relforcerowsecurity;
  DirectEntityScan p;
  p.heap = relid;
  const AttrNumber by = HeapAttribute(heap, spec.by[entity]);
  p.time_att = HeapAttribute(heap, spec.time);
  p.time_atts = {p.time_att};
  ok = ok && by > 0 && p.time_att > 0;
  TupleDesc desc = RelationGetDescr(heap);
  if (ok) {
    p.time_type = TupleDescAttr(desc, p.time_att - 1)->atttypid;
    ok = p.time_type == time_type;
  }
  auto columns = [&](const std::vector<std::string>& names, std::vector<AttrNumber>* atts, std::vector<Oid>* types) {
    for (const std::string& n : names) {
      const AttrNumber a = HeapAttribute(heap, n);
      ok = ok && a > 0;
      atts->push_back(a);
      types->push_back(a > 0 ? getBaseType(TupleDescAttr(desc, a - 1)->atttypid) : InvalidOid);
    }
  };
  columns(spec.amounts, &p.amount_atts, &p.amount_types);
  columns(spec.distinct, &p.distinct_atts, &p.distinct_types);
  columns(spec.fresh, &p.fresh_atts, &p.fresh_types);
  for (AttrNumber a : p.fresh_atts) p.fresh_time_atts.push_back({p.time_att, a});
  p.fresh_index.assign(spec.fresh.size(), InvalidOid);
  p.fresh_eq.assign(spec.fresh.size(), InvalidOid);
  p.fresh_index_time.assign(spec.fresh.size(), false);
  p.fresh_positions.assign(spec.fresh.size(), std::vector<int>());
  List* indexes = ok ? RelationGetIndexList(heap) : NIL;
  ListCell* cell;
  foreach (cell, indexes) {
    Relation index = index_open(lfirst_oid(cell), AccessShareLock);
    if (!OidIsValid(p.window_index) && LeadingKeys(index, by, p.time_att)) {
      p.entity_eq = KeyProc(index, 0, entity_type, BTEqualStrategyNumber);
      p.time_lt = KeyProc(index, 1, time_type, BTLessStrategyNumber);
      if (OidIsValid(p.entity_eq) && OidIsValid(p.time_lt)) {
        p.window_index = RelationGetRelid(index);
        p.window_positions = IndexPositions(heap, index);
      }
    }
    for (size_t n = 0; n < spec.fresh.size(); ++n) {
      if (OidIsValid(p.fresh_index[n]) || !LeadingKeys(index, by, p.fresh_atts[n])) continue;
      const RegProcedure eq = KeyProc(index, 1, fresh_types[n], BTEqualStrategyNumber);
      if (!OidIsValid(eq) || !OidIsValid(KeyProc(index, 0, entity_type, BTEqualStrategyNumber))) continue;
      p.fresh_index[n] = RelationGetRelid(index);
      p.fresh_positions[n] = IndexPositions(heap, index);
      p.fresh_eq[n] = eq;
      p.fresh_index_time[n] = index->rd_index->indnkeyatts >= 3 && index->rd_index->indkey.values[2] == p.time_att &&
                              OidIsValid(KeyProc(index, 2, time_type, BTLessStrategyNumber));
      if (p.fresh_index_time[n]) p.fresh_time_lt = KeyProc(index, 2, time_type, BTLessStrategyNumber);
    }
    index_close(index, AccessShareLock);
  }
  list_free(indexes);
  table_close(heap, AccessShareLock);
  ok = ok && OidIsValid(p.window_index);
  if (ok) *out = p;
  return ok;
}

void DirectScan(const DirectEntityScan& plan, const HistorySpec& spec, Datum entity, Datum time, int64_t now,
                const Datum* fresh_values, const bool* fresh_nulls, DirectScratch* scratch, EntityPast* past) {
  const size_t na = spec.amounts.size(), nd = spec.distinct.size(), nn = spec.fresh.size();
  const int64_t from = now - spec.LongestWindow();
  // What the statement inserted so far is visible to a snapshot taken after a new command id,
  // as to the SPI lookup's queries (read_only = false).
  CommandCounterIncrement();
  Snapshot snapshot = RegisterSnapshot(GetTransactionSnapshot());
  Relation heap = table_open(plan.heap, AccessShareLock);
  Relation index = index_open(plan.window_index, AccessShareLock);
  TupleTableSlot* slot = table_slot_create(heap, nullptr);
  ScanKeyData keys[3];
  ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, plan.entity_eq, entity);
  ScanKeyInit(&keys[1], 2, BTLessStrategyNumber, plan.time_lt, time);
  // Newest first: the last earlier time, then the rows of the longest window.
  std::vector<int64_t>& times = scratch->times;
  std::vector<double>& amounts = scratch->amounts;
  std::vector<std::optional<std::string>>& distinct = scratch->distinct;
  times.clear();
  amounts.clear();
  distinct.clear();
  const std::vector<AttrNumber>& time_att = plan.time_atts;
  Scan(heap, index, plan.window_positions, snapshot, keys, 2, BackwardScanDirection, slot,
       {&time_att, &plan.amount_atts, &plan.distinct_atts}, [&](const RowSource& s) {
    bool isnull;
    int64_t t = 0;
    if (!TimeMicros(plan.time_type, s.Get(plan.time_att, &isnull), &t)) return true;  // +-infinity
    if (!past->has_earlier) past->last_time = t;
    past->has_earlier = true;
    if (spec.windows.empty() || t < from) return false;
    times.push_back(t);
    for (size_t a = 0; a < na; ++a) {
      const Datum d = s.Get(plan.amount_atts[a], &isnull);
      amounts.push_back(isnull ? NAN : AmountValue(plan.amount_types[a], d));
    }
    for (size_t d = 0; d < nd; ++d) {
      const Datum v = s.Get(plan.distinct_atts[d], &isnull);
      distinct.emplace_back(isnull ? std::nullopt : std::optional<std::string>(ValueText(plan.distinct_types[d], v)));
    }
    return true;
  });
  // Oldest first, as ComputeEntityFeatures reads them.
  const size_t rows = times.size();
  past->times.assign(times.rbegin(), times.rend());
  past->amounts.resize(rows * na);
  past->distinct.resize(rows * nd);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t a = 0; a < na; ++a) past->amounts[r * na + a] = amounts[(rows - 1 - r) * na + a];
    for (size_t d = 0; d < nd; ++d) past->distinct[r * nd + d] = std::move(distinct[(rows - 1 - r) * nd + d]);
  }
  if (past->has_earlier) {  // the first earlier (finite) time
    Scan(heap, index, plan.window_positions, snapshot, keys, 2, ForwardScanDirection, slot, {&time_att}, [&](const RowSource& s) {
      bool isnull;
      int64_t t = 0;
      if (!TimeMicros(plan.time_type, s.Get(plan.time_att, &isnull), &t)) return true;
      past->first_time = t;
      return false;
    });
  }
  index_close(index, AccessShareLock);
  past->seen.assign(nn, -1);
  for (size_t n = 0; n < nn; ++n) {
    if (fresh_nulls[n]) continue;
    past->seen[n] = 0;
    if (!past->has_earlier) continue;
    auto seen = [&](const RowSource& s) {
      bool isnull;
      int64_t t = 0;
      if (!TimeMicros(plan.time_type, s.Get(plan.time_att, &isnull), &t) || t >= now) return true;
      past->seen[n] = 1;
      return false;
    };
    if (OidIsValid(plan.fresh_index[n])) {
      Relation fresh = index_open(plan.fresh_index[n], AccessShareLock);
      ScanKeyData k[3];
      ScanKeyInit(&k[0], 1, BTEqualStrategyNumber, plan.entity_eq, entity);
      ScanKeyInit(&k[1], 2, BTEqualStrategyNumber, plan.fresh_eq[n], fresh_values[n]);
      if (plan.fresh_index_time[n]) ScanKeyInit(&k[2], 3, BTLessStrategyNumber, plan.fresh_time_lt, time);
      Scan(heap, fresh, plan.fresh_positions[n], snapshot, k, plan.fresh_index_time[n] ? 3 : 2, ForwardScanDirection, slot,
           {&time_att}, seen);
      index_close(fresh, AccessShareLock);
    } else {  // every earlier row of the entity, compared as text
      std::string& wanted = scratch->wanted;
      wanted = ValueText(plan.fresh_types[n], fresh_values[n]);
      Relation window = index_open(plan.window_index, AccessShareLock);
      const std::vector<AttrNumber>& fresh_att = plan.fresh_time_atts[n];
      Scan(heap, window, plan.window_positions, snapshot, keys, 2, ForwardScanDirection, slot, {&fresh_att}, [&](const RowSource& s) {
        bool isnull;
        const Datum v = s.Get(plan.fresh_atts[n], &isnull);
        if (isnull || ValueText(plan.fresh_types[n], v) != wanted) return true;
        return seen(s);
      });
      index_close(window, AccessShareLock);
    }
  }
  ExecDropSingleTupleTableSlot(slot);
  table_close(heap, AccessShareLock);
  UnregisterSnapshot(snapshot);
}

}  // namespace glue
}  // namespace pgfraud
