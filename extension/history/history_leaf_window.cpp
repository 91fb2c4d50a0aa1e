// Reading an entity's window entries off copies of the window index's leaf pages (see the header).
//
// Why the copies prove what they hold: the leaf level is in key order across pages, and a
// leaf's key space is [its left sibling's high key, its own high key). So when a page holds an
// entry below the range (or is the leftmost leaf) and an entry at or above (entity, now) (or
// its high key is at or above it, or it is the rightmost leaf), every entry of the range is on
// it. When the range runs off a page's left edge, the walk goes on to its left sibling,
// accepted only if that page's right link still points at the page just read (Lehman and Yao;
// nbtree's own left walk checks the same). Splits move entries right, never left, and a page
// deleted meanwhile is not recycled while this transaction's snapshot is held, so a page
// copied under its share lock stays a true picture of its key space for this snapshot: the
// entries a snapshot sees were in the index before it was taken. Visibility is checked by the
// caller, as for an index-only scan.
#include "history/history_leaf_window.hpp"

#include <cstring>

extern "C" {
#include "access/nbtree.h"
#include "storage/bufmgr.h"
#include "storage/predicate.h"
}

namespace pgfraud {
namespace glue {
namespace {

// Copies leaf `block` into `copy` under a share lock; nullptr when it is not a live leaf
// (new, deleted or half-dead, or an internal page).
Page CopyLeaf(const LeafRange& range, PGAlignedBlock* copy, BlockNumber block, Buffer recent) {
  Relation index = range.index;
  const bool pinned = recent != InvalidBuffer && !RelationUsesLocalBuffers(index) &&
                      ReadRecentBuffer(index->rd_node, MAIN_FORKNUM, block, recent);
  const Buffer buffer = pinned ? recent : ReadBuffer(index, block);
  LockBuffer(buffer, BUFFER_LOCK_SHARE);
  PredicateLockPage(index, block, range.snapshot);
  std::memcpy(copy->data, BufferGetPage(buffer), BLCKSZ);
  UnlockReleaseBuffer(buffer);
  const Page page = copy->data;
  if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(BTPageOpaqueData))) return nullptr;
  const BTPageOpaque opaque = BTPageGetOpaque(page);
  return P_ISLEAF(opaque) && !P_IGNORE(opaque) ? page : nullptr;
}

// Compares index tuples' (entity, time) keys with the range's, in the index's order.
class KeyOrder {
 public:
  explicit KeyOrder(const LeafRange& r)
      : r_(r),
        desc_(RelationGetDescr(r.index)),
        entity_order_(index_getprocinfo(r.index, 1, BTORDER_PROC)),
        time_order_(index_getprocinfo(r.index, 2, BTORDER_PROC)),
        time_nulls_first_((r.index->rd_indoption[1] & INDOPTION_NULLS_FIRST) != 0) {}

  // The tuple's entity against the range's (a NULL entity sorts last).
  int Entity(IndexTuple t) const {
    bool isnull;
    const Datum e = index_getattr(t, 1, desc_, &isnull);
    if (isnull) return 1;
    return DatumGetInt32(FunctionCall2Coll(entity_order_, r_.index->rd_indcollation[0], e, r_.entity));
  }

  // The tuple's (entity, time) against (the range's entity, time); a high key's truncated
  // time is minus infinity.
  int Key(IndexTuple t, Datum time) const {
    const int e = Entity(t);
    if (e != 0) return e;
    if (BTreeTupleGetNAtts(t, r_.index) < 2) return -1;
    bool isnull;
    const Datum v = index_getattr(t, 2, desc_, &isnull);
    if (isnull) return time_nulls_first_ ? -1 : 1;
    return DatumGetInt32(FunctionCall2Coll(time_order_, r_.index->rd_indcollation[1], v, time));
  }

 private:
  const LeafRange& r_;
  TupleDesc desc_;
  FmgrInfo* entity_order_;
  FmgrInfo* time_order_;
  bool time_nulls_first_;
};

IndexTuple TupleAt(Page page, OffsetNumber off) {
  return reinterpret_cast<IndexTuple>(PageGetItem(page, PageGetItemId(page, off)));
}

// The first offset in [low, high) whose tuple is not below the bound (below(tuple) false).
template <typename Below>
OffsetNumber LowerBound(Page page, OffsetNumber low, OffsetNumber high, Below below) {
  while (low < high) {
    const OffsetNumber mid = low + (high - low) / 2;
    if (below(TupleAt(page, mid))) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  return low;
}

// The entity's first entry on `page`, whose entry at `last` is the entity's, into out->first:
// found when it follows another entity's entry or opens the leftmost leaf, and is not dead or a
// posting list. When the entity's entries open the page, its left sibling into out->older_left.
void FirstOnPage(const KeyOrder& order, Page page, OffsetNumber last, LeafWindow* out) {
  const BTPageOpaque opaque = BTPageGetOpaque(page);
  const OffsetNumber first_data = P_FIRSTDATAKEY(opaque);
  const OffsetNumber first = LowerBound(page, first_data, last, [&](IndexTuple t) { return order.Entity(t) < 0; });
  if (first == first_data && !P_LEFTMOST(opaque)) {
    out->older_left = opaque->btpo_prev;
    return;
  }
  const IndexTuple tuple = TupleAt(page, first);
  if (!ItemIdIsDead(PageGetItemId(page, first)) && !BTreeTupleIsPosting(tuple)) out->first = tuple;
}

// The live entries of [from, to) of `page`, newest first, into out->rows; false on a posting list.
bool TakeRows(Page page, OffsetNumber from, OffsetNumber to, LeafWindow* out) {
  for (OffsetNumber off = to; off > from;) {
    --off;
    const IndexTuple t = TupleAt(page, off);
    if (BTreeTupleIsPosting(t)) return false;
    if (!ItemIdIsDead(PageGetItemId(page, off))) out->rows.push_back(t);
  }
  return true;
}

}  // namespace

bool ReadLeafWindow(const LeafRange& range, BlockNumber block, Buffer recent, LeafWindow* out) {
  out->rows.clear();
  out->older = false;
  out->first = nullptr;
  out->older_left = InvalidBlockNumber;
  out->start = block;
  const KeyOrder order(range);
  if (!out->copies) out->copies.reset(new PGAlignedBlock[kLeafWindowPages]);
  Page page = CopyLeaf(range, &out->copies[0], block, recent);
  if (page == nullptr) return false;
  BTPageOpaque opaque = BTPageGetOpaque(page);
  OffsetNumber first_data = P_FIRSTDATAKEY(opaque), max = PageGetMaxOffsetNumber(page);
  // The first entry at or above (entity, now): the range ends just before it.
  OffsetNumber end = LowerBound(page, first_data, max + 1, [&](IndexTuple t) { return order.Key(t, range.now) < 0; });
  if (end == first_data && !P_LEFTMOST(opaque)) return false;  // the place may be further left
  if (end > max && !P_RIGHTMOST(opaque) && order.Key(TupleAt(page, P_HIKEY), range.now) < 0)
    return false;  // or further right
  for (int copies = 1;; ++copies) {
    // The range's first entry on this page, and what comes before it.
    const OffsetNumber begin =
        LowerBound(page, first_data, end, [&](IndexTuple t) { return order.Key(t, range.lo) < 0; });
    if (!TakeRows(page, begin, end, out)) return false;
    if (begin > first_data) {  // an entry below the range: the entity's older one, or another entity's
      const IndexTuple before = TupleAt(page, begin - 1);
      out->older = order.Entity(before) == 0;
      if (out->older) FirstOnPage(order, page, begin - 1, out);
      return true;
    }
    if (P_LEFTMOST(opaque)) return true;  // nothing before the range at all
    if (copies == kLeafWindowPages) return false;
    const BlockNumber right = block;
    block = opaque->btpo_prev;
    page = CopyLeaf(range, &out->copies[copies], block, InvalidBuffer);
    if (page == nullptr) return false;
    opaque = BTPageGetOpaque(page);
    if (opaque->btpo_next != right) return false;  // split or deleted since the page to its right was read
    first_data = P_FIRSTDATAKEY(opaque);
    max = PageGetMaxOffsetNumber(page);
    end = max + 1;  // every entry here is below the right page's first, which is in the range
  }
}

}  // namespace glue
}  // namespace pgfraud
