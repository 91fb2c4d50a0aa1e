// Direct B-tree scans for the trigger's history lookups (see the header).
#include "history/history_index_scan.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "history/history_sql.hpp"
#include "citus/citus_catalog.hpp"
#include "values/numeric_decode.hpp"
#include "values/row_values.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/nbtree.h"
#include "access/relscan.h"
#include "access/visibilitymap.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "commands/defrem.h"
#include "executor/tuptable.h"
#include "storage/buf_internals.h"
#include "storage/predicate.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
}

namespace pgfraud {
namespace glue {
namespace {

AttrNumber HeapAttribute(Relation heap, const std::string& name) {
  return ExactAttribute(RelationGetDescr(heap), name);
}

// The comparison procedure of `strategy` in index key `key` for a value of `type`; InvalidOid
// when the operator family has none.
RegProcedure KeyProc(Relation index, int key, Oid type, int16 strategy) {
  const Oid op = get_opfamily_member(index->rd_opfamily[key], index->rd_opcintype[key], type, strategy);
  return OidIsValid(op) ? get_opcode(op) : InvalidOid;
}

// A plain btree with no expression or predicate whose first keys are these attributes, each in
// its column's collation (the collation the SQL lookups and training compare entities in).
bool LeadingKeys(Relation heap, Relation index, AttrNumber first, AttrNumber second) {
  const Form_pg_index form = index->rd_index;
  const TupleDesc desc = RelationGetDescr(heap);
  return index->rd_rel->relam == BTREE_AM_OID && form->indisvalid && form->indisready && form->indnkeyatts >= 2 &&
         heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, nullptr) &&
         heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, nullptr) && form->indkey.values[0] == first &&
         form->indkey.values[1] == second &&
         index->rd_indcollation[0] == TupleDescAttr(desc, first - 1)->attcollation &&
         index->rd_indcollation[1] == TupleDescAttr(desc, second - 1)->attcollation;
}

// Whether the index's second key orders the time ascending in its type's default B-tree order:
// the window and first-time scans read an entity's rows newest first / oldest first by the
// scan direction (a DESC or otherwise ordered time key would hand them in another order).
bool TimeAscending(Relation index, Oid time_type) {
  const Oid opclass = GetDefaultOpClass(time_type, BTREE_AM_OID);
  return (index->rd_indoption[1] & INDOPTION_DESC) == 0 && OidIsValid(opclass) &&
         get_opclass_family(opclass) == index->rd_opfamily[1];
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
    default:
      return NumericToDouble(
          reinterpret_cast<Numeric>(pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(d)))));
  }
}

namespace {

// Where a scan's row values come from: the index tuple when its page is all-visible and the
// index holds every wanted column (an index-only scan, as nodeIndexonlyscan.c does it), else
// the heap tuple.
struct RowSource {
  IndexScanDesc scan;  // nullptr for a tuple read off a leaf page copy (ReadLeafWindow)
  TupleTableSlot* slot;
  const std::vector<int>* positions;  // per heap attribute number: its index column (1-based), 0 none
  bool from_index;
  bool unchecked = false;     // an unchecked scan's tuple whose page is not all-visible (see Scan)
  IndexTuple itup = nullptr;  // the index tuple (from_index)
  TupleDesc itupdesc = nullptr;
  // The index tuple's columns, deformed once per tuple on the first Get (index_getattr of
  // each column would walk the tuple from its start past every varlena before it).
  mutable bool deformed = false;
  mutable Datum values[INDEX_MAX_KEYS];
  mutable bool nulls[INDEX_MAX_KEYS];

  Datum Get(AttrNumber att, bool* isnull) const {
    if (!from_index) return slot_getattr(slot, att, isnull);
    if (!deformed) {
      index_deform_tuple(itup, itupdesc, values, nulls);
      deformed = true;
    }
    const int column = (*positions)[att] - 1;
    *isnull = nulls[column];
    return values[column];
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

// Per backend, the buffer a heap page was last read into (direct-mapped by page): the history's
// recent rows are spread one to a page over the table's newest pages, and ReadRecentBuffer
// pins a remembered buffer without the shared buffer table's look-up. An entry is only a
// hint: ReadRecentBuffer checks the buffer still holds that page.
struct RecentPage {
  RelFileNode node;
  BlockNumber block;
  Buffer buffer;
};
constexpr uint32 kRecentPages = 4096;
RecentPage g_recent_pages[kRecentPages];

uint32 RecentSlot(Relation heap, BlockNumber block) {
  return (block ^ (heap->rd_node.relNode * 2654435761u)) % kRecentPages;
}

Buffer ReadHeapPage(Relation heap, BlockNumber block) {
  if (RelationUsesLocalBuffers(heap)) return ReadBuffer(heap, block);
  RecentPage& r = g_recent_pages[RecentSlot(heap, block)];
  if (r.buffer != InvalidBuffer && r.block == block && RelFileNodeEquals(r.node, heap->rd_node) &&
      ReadRecentBuffer(heap->rd_node, MAIN_FORKNUM, block, r.buffer))
    return r.buffer;
  const Buffer buffer = ReadBuffer(heap, block);
  r = RecentPage{heap->rd_node, block, buffer};
  return buffer;
}

// Whether the HOT chain at `tid` on the pinned page `buffer` has a tuple visible to the
// snapshot: index_fetch_heap's check, without storing the tuple in a slot or pruning the page.
bool HotVisible(Relation heap, Buffer buffer, ItemPointerData tid, Snapshot snapshot, bool* all_dead) {
  HeapTupleData tuple;
  LockBuffer(buffer, BUFFER_LOCK_SHARE);
  const bool visible = heap_hot_search_buffer(&tid, heap, buffer, snapshot, &tuple, all_dead, true);
  LockBuffer(buffer, BUFFER_LOCK_UNLOCK);
  return visible;
}

// Whether the heap tuple an index-only row points at is visible, for a row whose values come
// from the index tuple (the history's new rows sit on pages not yet all-visible, one visit
// each). `buffer` keeps the last page pinned between rows. A chain found dead marks the index
// entry killed, as index_fetch_heap does.
bool VisibleInHeap(IndexScanDesc scan, Relation heap, ItemPointer tid, Snapshot snapshot, Buffer* buffer) {
  const BlockNumber block = ItemPointerGetBlockNumber(tid);
  if (*buffer == InvalidBuffer || BufferGetBlockNumber(*buffer) != block) {
    if (*buffer != InvalidBuffer) ReleaseBuffer(*buffer);
    *buffer = ReadHeapPage(heap, block);
  }
  bool all_dead = false;
  const bool visible = HotVisible(heap, *buffer, *tid, snapshot, &all_dead);
  if (!visible && !scan->xactStartedInRecovery) scan->kill_prior_tuple = all_dead;
  return visible;
}

// Which of `tids` (heap tuples on pages not all-visible) are visible to the snapshot, into
// `visible`: VisibleInHeap's check for a batch at a time, with each step's memory fetched for
// the whole batch before the step reads it (buffer headers and line pointers, then tuple
// headers): the rows sit one to a page, and their cache misses overlap instead of following
// each other. Dead chains are not marked killed here (the index scan has moved on).
void VisibleRows(Relation heap, Snapshot snapshot, const ItemPointerData* tids, size_t n, uint8_t* visible) {
  constexpr size_t kBatch = 32;
  Buffer buffers[kBatch];
  const bool shared = !RelationUsesLocalBuffers(heap);
  for (size_t start = 0; start < n; start += kBatch) {
    const size_t m = std::min(kBatch, n - start);
    const ItemPointerData* batch = tids + start;
    for (size_t i = 0; shared && i < m; ++i) {  // where the remembered buffers are
      const BlockNumber block = ItemPointerGetBlockNumber(&batch[i]);
      const RecentPage& r = g_recent_pages[RecentSlot(heap, block)];
      if (r.buffer == InvalidBuffer || r.block != block) continue;
      __builtin_prefetch(GetBufferDescriptor(r.buffer - 1));
      const char* page = static_cast<const char*>(BufferGetBlock(r.buffer));
      __builtin_prefetch(page);
      __builtin_prefetch(page + offsetof(PageHeaderData, pd_linp) +
                         (ItemPointerGetOffsetNumber(&batch[i]) - 1) * sizeof(ItemIdData));
    }
    for (size_t i = 0; i < m; ++i) buffers[i] = ReadHeapPage(heap, ItemPointerGetBlockNumber(&batch[i]));
    for (size_t i = 0; i < m; ++i) {  // the tuple headers (a pinned page's items do not move)
      const Page page = BufferGetPage(buffers[i]);
      const OffsetNumber offset = ItemPointerGetOffsetNumber(&batch[i]);
      if (offset < FirstOffsetNumber || offset > PageGetMaxOffsetNumber(page)) continue;
      const ItemId item = PageGetItemId(page, offset);
      if (ItemIdIsNormal(item)) __builtin_prefetch(PageGetItem(page, item));
    }
    for (size_t i = 0; i < m; ++i) {
      bool all_dead = false;
      visible[start + i] = HotVisible(heap, buffers[i], batch[i], snapshot, &all_dead);
      ReleaseBuffer(buffers[i]);
    }
  }
}

// One scan of `index` with `keys`, calling row(source) per visible tuple until it returns
// false; `wanted` lists the heap attributes row reads. With `unchecked`, an index-only scan
// (the index holds every wanted attribute) gives row every tuple the keys match, and
// source.unchecked tells the ones whose page is not all-visible: the caller checks those
// (VisibleRows) before using them. A scan that reads the heap checks each tuple as before.
template <typename Row>
void Scan(Relation heap, Relation index, const std::vector<int>& positions, Snapshot snapshot, ScanKeyData* keys,
          int nkeys, ScanDirection direction, TupleTableSlot* slot,
          std::initializer_list<const std::vector<AttrNumber>*> wanted, Row&& row, bool unchecked = false) {
  bool covered = true;
  for (const std::vector<AttrNumber>* list : wanted) {
    for (AttrNumber a : *list) covered = covered && positions[a] > 0;
  }
  // Each key compares in its index column's collation (ScanKeyInit leaves "C"): a text
  // entity's B-tree is ordered by it, and a descent in another order lands on the wrong leaf.
  for (int k = 0; k < nkeys; ++k) keys[k].sk_collation = index->rd_indcollation[keys[k].sk_attno - 1];
  IndexScanDesc scan = index_beginscan(heap, index, snapshot, nkeys, 0);
  scan->xs_want_itup = covered;
  index_rescan(scan, keys, nkeys, nullptr, 0);
  Buffer vm = InvalidBuffer, page = InvalidBuffer;
  RowSource source{scan, slot, &positions, covered};
  ItemPointer tid;
  while ((tid = index_getnext_tid(scan, direction)) != nullptr) {
    if (covered) {  // a visible tuple's values are the index tuple's too
      const bool all_visible = VM_ALL_VISIBLE(heap, ItemPointerGetBlockNumber(tid), &vm);
      source.unchecked = unchecked && !all_visible;
      if (!all_visible && !unchecked && !VisibleInHeap(scan, heap, tid, snapshot, &page)) continue;
    } else if (!index_fetch_heap(scan, slot)) {
      continue;  // not visible to the snapshot
    }
    source.deformed = false;
    source.itup = scan->xs_itup;
    source.itupdesc = scan->xs_itupdesc;
    const bool more = row(source);
    if (!covered) ExecClearTuple(slot);
    if (!more) break;
  }
  if (page != InvalidBuffer) ReleaseBuffer(page);
  if (vm != InvalidBuffer) ReleaseBuffer(vm);
  index_endscan(scan);
}

}  // namespace

namespace {

// A text, varchar or char(n) value read in place, as ::text gives it (char(n) padding
// dropped); false for other types.
bool InPlaceText(Oid type, Datum value, std::string_view* out) {
  if (type != TEXTOID && type != VARCHAROID && type != BPCHAROID) return false;
  struct varlena* v = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(value)));
  std::string_view s(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
  if (type == BPCHAROID) {
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  }
  *out = s;
  return true;
}

}  // namespace

std::string ValueText(Oid type, Datum value) {
  std::string_view text;
  if (InPlaceText(type, value, &text)) return std::string(text);
  switch (type) {
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
            !heap->rd_rel->relforcerowsecurity && !IsCitusTable(relid);  // a Citus shell holds no rows
  DirectEntityScan p;
  p.heap = relid;
  const AttrNumber by = HeapAttribute(heap, spec.by[entity]);
  p.time_att = HeapAttribute(heap, spec.time);
  p.time_atts = {p.time_att};
  ok = ok && by > 0 && p.time_att > 0;
  p.by_att = by;
  if (ok) get_typlenbyval(entity_type, &p.entity_len, &p.entity_byval);
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
    if (!OidIsValid(p.window_index) && LeadingKeys(heap, index, by, p.time_att) && TimeAscending(index, time_type)) {
      p.entity_eq = KeyProc(index, 0, entity_type, BTEqualStrategyNumber);
      p.time_lt = KeyProc(index, 1, time_type, BTLessStrategyNumber);
      p.time_le = KeyProc(index, 1, time_type, BTLessEqualStrategyNumber);
      p.time_ge = KeyProc(index, 1, time_type, BTGreaterEqualStrategyNumber);
      if (OidIsValid(p.entity_eq) && OidIsValid(p.time_lt) && OidIsValid(p.time_le) && OidIsValid(p.time_ge)) {
        p.window_index = RelationGetRelid(index);
        p.window_positions = IndexPositions(heap, index);
        p.entity_ascending = index->rd_indoption[0] == 0;
      }
    }
    for (size_t n = 0; n < spec.fresh.size(); ++n) {
      if (OidIsValid(p.fresh_index[n]) || !LeadingKeys(heap, index, by, p.fresh_atts[n])) continue;
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
  p.fresh_in_window = !p.fresh_atts.empty() && !p.window_positions.empty();
  for (AttrNumber a : p.fresh_atts) p.fresh_in_window = p.fresh_in_window && p.window_positions[a] > 0;
  p.window_covered = !p.window_positions.empty();
  for (const auto* atts : {&p.time_atts, &p.amount_atts, &p.distinct_atts}) {
    for (AttrNumber a : *atts) p.window_covered = p.window_covered && p.window_positions[a] > 0;
  }
  ok = ok && OidIsValid(p.window_index);
  if (ok) *out = p;
  return ok;
}

namespace {

// Whether a value's text (ValueText) is `wanted`; text types compared in place.
bool SameText(Oid type, Datum value, const std::string& wanted) {
  std::string_view text;
  return InPlaceText(type, value, &text) ? text == wanted : ValueText(type, value) == wanted;
}

// Per backend and (table, entity column, entity value), what the last lookup found: the first
// time, which bounds the first-time scan (FirstTime), and the window index leaf holding the
// entity's newest entries (ReadLeafWindow starts there). Hints are never trusted, only tried,
// so they need no invalidation; at most kMaxHints entries (dropped all at once when full).
struct EntityHint {
  bool has_first = false;
  int64_t first_time = 0;
  RelFileNode leaf_node{};  // the window index's file when the leaf was found
  BlockNumber leaf = InvalidBlockNumber;
  Buffer leaf_buffer = InvalidBuffer;  // the buffer the leaf was last read into
};
std::unordered_map<std::string, EntityHint> g_hints;
constexpr size_t kMaxHints = 16384;

void HintKey(const DirectEntityScan& plan, Datum entity, std::string* key) {
  key->assign(reinterpret_cast<const char*>(&plan.heap), sizeof(Oid));
  key->append(reinterpret_cast<const char*>(&plan.by_att), sizeof(AttrNumber));
  if (plan.entity_byval) {
    key->append(reinterpret_cast<const char*>(&entity), sizeof(Datum));
  } else if (plan.entity_len == -1) {
    struct varlena* v = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(entity)));
    key->append(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
  } else if (plan.entity_len > 0) {
    key->append(DatumGetPointer(entity), plan.entity_len);
  } else {
    key->append(DatumGetCString(entity));
  }
}

// Everything one DirectScan reads with.
struct ScanContext {
  const DirectEntityScan& plan;
  Relation heap, index;
  Snapshot snapshot;
  TupleTableSlot* slot;
  Datum entity, time;
  EntityHint& hint;
};

// The finite time of a scanned row; false for +-infinity.
bool RowTime(const ScanContext& c, const RowSource& s, int64_t* t) {
  bool isnull;
  return TimeMicros(c.plan.time_type, s.Get(c.plan.time_att, &isnull), t);
}

// The entity's last earlier (finite) time under `keys` into `past`, if any.
void LastEarlier(const ScanContext& c, ScanKeyData* keys, int nkeys, EntityPast* past) {
  Scan(c.heap, c.index, c.plan.window_positions, c.snapshot, keys, nkeys, BackwardScanDirection, c.slot,
       {&c.plan.time_atts}, [&](const RowSource& s) {
         int64_t t = 0;
         if (!RowTime(c, s, &t)) return true;  // +-infinity
         past->last_time = t;
         past->has_earlier = true;
         return false;
       });
}

// Drops the collected window rows whose heap tuple VisibleRows found invisible.
void KeepVisible(const HistorySpec& spec, DirectScratch* scratch) {
  const size_t na = spec.amounts.size(), nd = spec.distinct.size(), nn = spec.fresh.size();
  const size_t rows = scratch->times.size();
  size_t w = 0, next = 0;  // next: the first unchecked row not yet passed
  for (size_t r = 0; r < rows; ++r) {
    const bool checked = next < scratch->unchecked.size() && scratch->unchecked[next] == r;
    if (checked && !scratch->visible[next++]) continue;
    if (w == r) {  // nothing dropped yet: the row stays where it is (no self-move)
      ++w;
      continue;
    }
    scratch->times[w] = scratch->times[r];
    for (size_t a = 0; a < na; ++a) scratch->amounts[w * na + a] = scratch->amounts[r * na + a];
    for (size_t d = 0; d < nd; ++d) scratch->distinct[w * nd + d] = std::move(scratch->distinct[r * nd + d]);
    for (size_t n = 0; n < nn; ++n) scratch->matches[w * nn + n] = scratch->matches[r * nn + n];
    ++w;
  }
  scratch->times.resize(w);
  scratch->amounts.resize(w * na);
  scratch->distinct.resize(w * nd);
  scratch->matches.resize(w * nn);
}

// One window row (time t) into the scratch, with, per new column, whether it holds the
// current value (when the window index holds the new columns); `unchecked`: its heap tuple,
// when its visibility is still to be checked (CheckVisible).
void AddWindowRow(const ScanContext& c, const HistorySpec& spec, const bool* fresh_nulls, const RowSource& s, int64_t t,
                  const ItemPointerData* unchecked, DirectScratch* scratch) {
  const DirectEntityScan& plan = c.plan;
  const size_t na = spec.amounts.size(), nd = spec.distinct.size(), nn = spec.fresh.size();
  if (unchecked != nullptr) {
    scratch->unchecked.push_back(scratch->times.size());
    scratch->tids.push_back(*unchecked);
  }
  scratch->times.push_back(t);
  bool isnull;
  for (size_t a = 0; a < na; ++a) {
    const Datum d = s.Get(plan.amount_atts[a], &isnull);
    scratch->amounts.push_back(isnull ? NAN : AmountValue(plan.amount_types[a], d));
  }
  for (size_t d = 0; d < nd; ++d) {
    const Datum v = s.Get(plan.distinct_atts[d], &isnull);
    scratch->distinct.emplace_back(isnull ? std::nullopt
                                          : std::optional<std::string>(ValueText(plan.distinct_types[d], v)));
  }
  for (size_t n = 0; n < nn; ++n) {
    bool match = false;
    if (plan.fresh_in_window && !fresh_nulls[n]) {
      const Datum v = s.Get(plan.fresh_atts[n], &isnull);
      match = !isnull && SameText(plan.fresh_types[n], v, scratch->fresh_text[n]);
    }
    scratch->matches.push_back(match);
  }
}

// Drops the collected rows whose heap tuple is not visible, checked in one batch (VisibleRows).
void CheckVisible(const ScanContext& c, const HistorySpec& spec, DirectScratch* scratch) {
  if (scratch->tids.empty()) return;
  scratch->visible.resize(scratch->tids.size());
  VisibleRows(c.heap, c.snapshot, scratch->tids.data(), scratch->tids.size(), scratch->visible.data());
  KeepVisible(spec, scratch);
}

// The entity's rows matching `keys` (those of the longest window), newest first into the
// (cleared) scratch (AddWindowRow); remembers the leaf of the newest in the hint. An index-only
// scan leaves the rows on pages not all-visible to one batched check after the scan.
void CollectWindow(const ScanContext& c, const HistorySpec& spec, ScanKeyData* keys, const bool* fresh_nulls,
                   DirectScratch* scratch) {
  const DirectEntityScan& plan = c.plan;
  static const std::vector<AttrNumber> kNone;
  const std::vector<AttrNumber>& fresh_atts = plan.fresh_in_window ? plan.fresh_atts : kNone;
  Scan(
      c.heap, c.index, plan.window_positions, c.snapshot, keys, 3, BackwardScanDirection, c.slot,
      {&plan.time_atts, &plan.amount_atts, &plan.distinct_atts, &fresh_atts},
      [&](const RowSource& s) {
        int64_t t = 0;
        if (!RowTime(c, s, &t)) return true;  // +-infinity
        const BTScanOpaque so = reinterpret_cast<BTScanOpaque>(s.scan->opaque);
        if (scratch->oldest_page == InvalidBlockNumber && s.from_index) {  // the newest row's leaf
          c.hint.leaf_node = c.index->rd_node;
          c.hint.leaf = so->currPos.currPage;
          c.hint.leaf_buffer = so->currPos.buf;
        }
        scratch->oldest_page = so->currPos.currPage;
        scratch->oldest_buffer = so->currPos.buf;
        AddWindowRow(c, spec, fresh_nulls, s, t, s.unchecked ? &s.scan->xs_heaptid : nullptr, scratch);
        return true;
      },
      true);
  CheckVisible(c, spec, scratch);
}

// The window rows read off the leaf pages' copies (ReadLeafWindow) from the hinted leaf, as
// CollectWindow gives them (scratch->leaf tells what lies before them); false when the pages
// do not tell (nothing collected).
bool LeafWindowRows(const ScanContext& c, const HistorySpec& spec, Datum lo, const bool* fresh_nulls,
                    DirectScratch* scratch) {
  const DirectEntityScan& plan = c.plan;
  if (!plan.window_covered || !plan.entity_ascending || c.hint.leaf == InvalidBlockNumber ||
      !RelFileNodeEquals(c.hint.leaf_node, c.index->rd_node))
    return false;
  LeafWindow& leaf = scratch->leaf;
  if (!ReadLeafWindow(LeafRange{c.index, c.snapshot, c.entity, lo, c.time}, c.hint.leaf, c.hint.leaf_buffer, &leaf)) {
    c.hint.leaf = InvalidBlockNumber;
    return false;
  }
  RowSource s{nullptr, nullptr, &plan.window_positions, true};
  s.itupdesc = RelationGetDescr(c.index);
  Buffer vm = InvalidBuffer;
  for (const IndexTuple tuple : leaf.rows) {
    s.itup = tuple;
    s.deformed = false;
    int64_t t = 0;
    if (!RowTime(c, s, &t)) continue;  // +-infinity
    const bool all_visible = VM_ALL_VISIBLE(c.heap, ItemPointerGetBlockNumber(&tuple->t_tid), &vm);
    AddWindowRow(c, spec, fresh_nulls, s, t, all_visible ? nullptr : &tuple->t_tid, scratch);
  }
  if (vm != InvalidBuffer) ReleaseBuffer(vm);
  CheckVisible(c, spec, scratch);
  return true;
}

// The entity's rows of the longest window, [now - longest, now), newest first into scratch
// (with no windows: the last earlier row only); sets last_time, and marks seen a current
// new-column value met in the window. True when the window came off leaf copies (scratch->leaf).
bool WindowRows(const ScanContext& c, const HistorySpec& spec, int64_t now, const bool* fresh_nulls,
                DirectScratch* scratch, EntityPast* past) {
  const DirectEntityScan& plan = c.plan;
  const size_t nn = spec.fresh.size();
  ScanKeyData keys[3];
  ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, plan.entity_eq, c.entity);
  ScanKeyInit(&keys[1], 2, BTLessStrategyNumber, plan.time_lt, c.time);
  scratch->matches.clear();
  scratch->times.clear();
  scratch->amounts.clear();
  scratch->distinct.clear();
  scratch->tids.clear();
  scratch->unchecked.clear();
  scratch->oldest_page = InvalidBlockNumber;
  if (spec.windows.empty()) {
    LastEarlier(c, keys, 2, past);
    return false;
  }
  // The window's lower bound is a scan key: nbtree stops at it instead of reading the
  // entity's older rows on the leaf page.
  const Datum lo = MicrosTime(plan.time_type, now - spec.LongestWindow());
  ScanKeyInit(&keys[2], 2, BTGreaterEqualStrategyNumber, plan.time_ge, lo);
  const bool off_copies = LeafWindowRows(c, spec, lo, fresh_nulls, scratch);
  if (!off_copies) CollectWindow(c, spec, keys, fresh_nulls, scratch);
  if (scratch->times.empty()) {
    if (off_copies && !scratch->leaf.older) return true;  // no earlier row at all
    // Nothing in the window: the last earlier row is older than it.
    ScanKeyInit(&keys[1], 2, BTLessStrategyNumber, plan.time_lt, lo);
    LastEarlier(c, keys, 2, past);
    return off_copies;
  }
  past->has_earlier = true;
  past->last_time = scratch->times[0];
  for (size_t r = 0; r < scratch->times.size(); ++r) {
    for (size_t n = 0; n < nn; ++n) {
      if (scratch->matches[r * nn + n] && past->seen[n] == 0) past->seen[n] = 1;
    }
  }
  return off_copies;
}

// The window rows into `past`, oldest first, as ComputeEntityFeatures reads them.
void StoreWindow(const HistorySpec& spec, DirectScratch* scratch, EntityPast* past) {
  const size_t na = spec.amounts.size(), nd = spec.distinct.size(), rows = scratch->times.size();
  past->times.assign(scratch->times.rbegin(), scratch->times.rend());
  past->amounts.resize(rows * na);
  past->distinct.resize(rows * nd);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t a = 0; a < na; ++a) past->amounts[r * na + a] = scratch->amounts[(rows - 1 - r) * na + a];
    for (size_t d = 0; d < nd; ++d) past->distinct[r * nd + d] = std::move(scratch->distinct[(rows - 1 - r) * nd + d]);
  }
}

// What FirstEntryOnLeaf found on a page.
enum class LeafFirst { kFound, kLeft, kUnknown };

// The entity's first entry of all in the window index, looked for on leaf page `block`
// (`recent`: the buffer it was last read into, or InvalidBuffer). The leaf level is in key order
// across pages, so an entry of the entity that follows another entity's entry on a page, or
// opens the leftmost leaf, is the entity's first whatever page this is: kFound, its heap TID
// and time. kLeft: the entity's entries open the page, its left sibling may hold earlier ones
// (*left). kUnknown: the page does not tell (deleted, or not a leaf: reused since; no entry of
// the entity; a dead entry or a posting list). The entity key is ASC NULLS LAST. The page is
// read under a share lock.
LeafFirst FirstEntryOnLeaf(const ScanContext& c, BlockNumber block, Buffer recent, BlockNumber* left,
                           ItemPointerData* tid, Datum* time, bool* time_null) {
  const bool pinned = recent != InvalidBuffer && !RelationUsesLocalBuffers(c.index) &&
                      ReadRecentBuffer(c.index->rd_node, MAIN_FORKNUM, block, recent);
  const Buffer buffer = pinned ? recent : ReadBuffer(c.index, block);
  LockBuffer(buffer, BUFFER_LOCK_SHARE);
  PredicateLockPage(c.index, block, c.snapshot);  // as nbtree's scans lock the leaves they read
  const Page page = BufferGetPage(buffer);
  const BTPageOpaque opaque = BTPageGetOpaque(page);
  LeafFirst found = LeafFirst::kUnknown;
  if (!PageIsNew(page) && P_ISLEAF(opaque) && !P_IGNORE(opaque)) {
    TupleDesc desc = RelationGetDescr(c.index);
    FmgrInfo* order = index_getprocinfo(c.index, 1, BTORDER_PROC);
    const Oid collation = c.index->rd_indcollation[0];
    auto item = [&](OffsetNumber off) {
      return reinterpret_cast<IndexTuple>(PageGetItem(page, PageGetItemId(page, off)));
    };
    auto compare = [&](IndexTuple tuple) {  // the entry's entity against this one (NULL last)
      bool isnull;
      const Datum key = index_getattr(tuple, 1, desc, &isnull);
      return isnull ? 1 : DatumGetInt32(FunctionCall2Coll(order, collation, key, c.entity));
    };
    // The first data item whose entity is not below this one.
    const OffsetNumber first_data = P_FIRSTDATAKEY(opaque), max = PageGetMaxOffsetNumber(page);
    OffsetNumber low = first_data, high = max + 1;
    while (low < high) {
      const OffsetNumber mid = low + (high - low) / 2;
      if (compare(item(mid)) < 0) {
        low = mid + 1;
      } else {
        high = mid;
      }
    }
    const IndexTuple first = low <= max ? item(low) : nullptr;
    if (first != nullptr && compare(first) == 0) {
      if (low == first_data && !P_LEFTMOST(opaque)) {
        *left = opaque->btpo_prev;
        found = LeafFirst::kLeft;
      } else if (!ItemIdIsDead(PageGetItemId(page, low)) && !BTreeTupleIsPosting(first)) {
        *tid = first->t_tid;
        *time = index_getattr(first, 2, desc, time_null);  // by value: timestamptz, timestamp or date
        found = LeafFirst::kFound;
      }
    }
  }
  UnlockReleaseBuffer(buffer);
  return found;
}

// The entity's first entry (heap `tid`, index `time`) as its first time, when that time is
// finite and earlier than now and the tuple is visible.
bool VisibleFirst(const ScanContext& c, int64_t now, ItemPointerData tid, Datum time, bool time_null,
                  EntityPast* past) {
  int64_t t = 0;
  if (time_null || !TimeMicros(c.plan.time_type, time, &t) || t >= now) return false;
  Buffer vm = InvalidBuffer;
  bool visible = VM_ALL_VISIBLE(c.heap, ItemPointerGetBlockNumber(&tid), &vm);
  if (vm != InvalidBuffer) ReleaseBuffer(vm);
  if (!visible) {
    const Buffer buffer = ReadHeapPage(c.heap, ItemPointerGetBlockNumber(&tid));
    bool all_dead = false;
    visible = HotVisible(c.heap, buffer, tid, c.snapshot, &all_dead);
    ReleaseBuffer(buffer);
  }
  if (visible) past->first_time = t;
  return visible;
}

// The entity's first earlier (finite) time from leaf `block` (the one the window scan ended on,
// say), or its left sibling (FirstEntryOnLeaf), when that entry is visible; false when they
// cannot tell.
bool FirstTimeFromLeaf(const ScanContext& c, int64_t now, BlockNumber block, Buffer recent, EntityPast* past) {
  if (!c.plan.entity_ascending || block == InvalidBlockNumber) return false;
  ItemPointerData tid;
  Datum time;
  bool time_null = true;
  BlockNumber left = InvalidBlockNumber;
  LeafFirst found = FirstEntryOnLeaf(c, block, recent, &left, &tid, &time, &time_null);
  if (found == LeafFirst::kLeft) found = FirstEntryOnLeaf(c, left, InvalidBuffer, &left, &tid, &time, &time_null);
  return found == LeafFirst::kFound && VisibleFirst(c, now, tid, time, time_null, past);
}

// The first time read off the leaf copies (LeafWindowRows): the oldest window row when the
// entity has no older entries, else its first entry when the copies showed it.
bool FirstTimeOffCopies(const ScanContext& c, int64_t now, const DirectScratch* scratch, EntityPast* past) {
  const LeafWindow& rest = scratch->leaf;
  if (!rest.older) {
    past->first_time = scratch->times.back();  // has_earlier: the window holds a visible row
    return true;
  }
  if (rest.first == nullptr) return FirstTimeFromLeaf(c, now, rest.older_left, InvalidBuffer, past);
  bool time_null = true;
  const Datum time = index_getattr(rest.first, 2, RelationGetDescr(c.index), &time_null);
  return VisibleFirst(c, now, rest.first->t_tid, time, time_null, past);
}

// The entity's first earlier (finite) time. A forward scan reads every matching tuple of a
// leaf page, so the scan is first bounded by this backend's hint (time <= the first time it
// last found): any visible row there is preceded by every earlier one, so the first found is
// the first of all whatever the hint was; only when none is found is the scan unbounded.
void FirstTime(const ScanContext& c, int64_t now, EntityPast* past) {
  const DirectEntityScan& plan = c.plan;
  ScanKeyData keys[2];
  ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, plan.entity_eq, c.entity);
  bool found = false;
  auto first = [&](const RowSource& s) {
    int64_t t = 0;
    if (!RowTime(c, s, &t)) return true;
    past->first_time = t;
    found = true;
    return false;
  };
  if (c.hint.has_first && c.hint.first_time < now) {
    ScanKeyInit(&keys[1], 2, BTLessEqualStrategyNumber, plan.time_le, MicrosTime(plan.time_type, c.hint.first_time));
    Scan(c.heap, c.index, plan.window_positions, c.snapshot, keys, 2, ForwardScanDirection, c.slot, {&plan.time_atts},
         first);
  }
  if (!found) {
    ScanKeyInit(&keys[1], 2, BTLessStrategyNumber, plan.time_lt, c.time);
    Scan(c.heap, c.index, plan.window_positions, c.snapshot, keys, 2, ForwardScanDirection, c.slot, {&plan.time_atts},
         first);
  }
  if (!found) return;
  c.hint.has_first = true;
  c.hint.first_time = past->first_time;
}

// Whether new column n's current value was seen in an earlier row of the entity.
void SeenBefore(const ScanContext& c, size_t n, int64_t now, Datum value, const DirectScratch* scratch,
                EntityPast* past) {
  const DirectEntityScan& plan = c.plan;
  auto seen = [&](const RowSource& s) {
    int64_t t = 0;
    if (!RowTime(c, s, &t) || t >= now) return true;
    past->seen[n] = 1;
    return false;
  };
  if (OidIsValid(plan.fresh_index[n])) {
    Relation fresh = index_open(plan.fresh_index[n], AccessShareLock);
    ScanKeyData k[3];
    ScanKeyInit(&k[0], 1, BTEqualStrategyNumber, plan.entity_eq, c.entity);
    ScanKeyInit(&k[1], 2, BTEqualStrategyNumber, plan.fresh_eq[n], value);
    if (plan.fresh_index_time[n]) ScanKeyInit(&k[2], 3, BTLessStrategyNumber, plan.fresh_time_lt, c.time);
    Scan(c.heap, fresh, plan.fresh_positions[n], c.snapshot, k, plan.fresh_index_time[n] ? 3 : 2, ForwardScanDirection,
         c.slot, {&plan.time_atts}, seen);
    index_close(fresh, AccessShareLock);
    return;
  }
  // Every earlier row of the entity, compared as text.
  const std::string& wanted = scratch->fresh_text[n];
  ScanKeyData keys[2];
  ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, plan.entity_eq, c.entity);
  ScanKeyInit(&keys[1], 2, BTLessStrategyNumber, plan.time_lt, c.time);
  Scan(c.heap, c.index, plan.window_positions, c.snapshot, keys, 2, ForwardScanDirection, c.slot,
       {&plan.fresh_time_atts[n]}, [&](const RowSource& s) {
         bool isnull;
         const Datum v = s.Get(plan.fresh_atts[n], &isnull);
         if (isnull || !SameText(plan.fresh_types[n], v, wanted)) return true;
         return seen(s);
       });
}

}  // namespace

void DirectScan(const DirectEntityScan& plan, const HistorySpec& spec, Datum entity, Datum time, int64_t now,
                const Datum* fresh_values, const bool* fresh_nulls, DirectScratch* scratch, EntityPast* past) {
  // What the statement inserted so far is visible to a snapshot taken after a new command id,
  // as to the SPI lookup's queries (read_only = false).
  CommandCounterIncrement();
  Snapshot snapshot = RegisterSnapshot(GetTransactionSnapshot());
  Relation heap = table_open(plan.heap, AccessShareLock);
  Relation index = index_open(plan.window_index, AccessShareLock);
  HintKey(plan, entity, &scratch->hint_key);
  if (g_hints.size() >= kMaxHints && g_hints.count(scratch->hint_key) == 0) g_hints.clear();
  EntityHint& hint = g_hints[scratch->hint_key];  // no other insertion until the scan ends
  const ScanContext c{plan, heap, index, snapshot, table_slot_create(heap, nullptr), entity, time, hint};
  const size_t nn = spec.fresh.size();
  past->seen.assign(nn, -1);
  scratch->fresh_text.resize(nn);
  for (size_t n = 0; n < nn; ++n) {
    if (fresh_nulls[n]) continue;
    past->seen[n] = 0;
    scratch->fresh_text[n] = ValueText(plan.fresh_types[n], fresh_values[n]);
  }
  const bool off_copies = WindowRows(c, spec, now, fresh_nulls, scratch, past);
  StoreWindow(spec, scratch, past);
  if (past->has_earlier) {
    const bool known = off_copies ? FirstTimeOffCopies(c, now, scratch, past)
                                  : FirstTimeFromLeaf(c, now, scratch->oldest_page, scratch->oldest_buffer, past);
    if (!known) FirstTime(c, now, past);
  }
  for (size_t n = 0; n < nn; ++n) {  // not met in the window: the entity's whole history
    if (past->seen[n] == 0 && past->has_earlier) SeenBefore(c, n, now, fresh_values[n], scratch, past);
  }
  index_close(index, AccessShareLock);
  ExecDropSingleTupleTableSlot(c.slot);
  table_close(heap, AccessShareLock);
  UnregisterSnapshot(snapshot);
}

}  // namespace glue
}  // namespace pgfraud
