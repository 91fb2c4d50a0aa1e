// An entity's window entries read straight off copies of the window index's leaf pages,
// starting from a leaf this backend found them on before: the trigger's fast path, which
// skips the B-tree descent and the scan machinery. When the pages do not prove that they hold
// every entry of the range, the caller scans as usual. PostgreSQL code: call inside PgCall.
#pragma once

#include <memory>
#include <vector>

#include "pg_headers.hpp"

extern "C" {
#include "access/itup.h"
}

namespace pgfraud {
namespace glue {

// The range [(entity, lo), (entity, now)) of a window index whose keys are (entity ASC NULLS
// LAST, time ASC), compared with the index's own order procedures and collations; each leaf
// read is predicate-locked for `snapshot`, as nbtree's scans lock it (SERIALIZABLE).
struct LeafRange {
  Relation index;
  Snapshot snapshot;
  Datum entity, lo, now;
};

constexpr int kLeafWindowPages = 4;  // the pages one walk copies (a longer window is scanned as usual)

struct LeafWindow {
  std::vector<IndexTuple> rows;            // the range's entries not marked dead, newest first (in the copies)
  BlockNumber start = InvalidBlockNumber;  // the leaf holding (entity, now)'s place
  bool older = false;                      // the entity has entries before lo
  // When `older`: the entity's first entry, when the copies show it (not dead, not a posting
  // list); else nullptr, and `older_left` is the left sibling of the page the older entries open
  // (InvalidBlockNumber when that page's first entry is the entity's dead or posting first).
  IndexTuple first = nullptr;
  BlockNumber older_left = InvalidBlockNumber;
  // The page copies the tuples point into, per LeafWindow (a lookup nested in this one, from
  // a type's output function say, has its own).
  std::unique_ptr<PGAlignedBlock[]> copies;
};

// Reads the range off leaf `block` (pinned by way of `recent` if that buffer still holds it)
// and, when the range runs off its left edge, off its left siblings. False when the pages do
// not tell: not a live leaf, the place of (entity, now) not on it, a posting list in the
// range, a sibling split meanwhile, or more pages than a window's walk allows. The tuples
// stay valid until the next call with the same `out`.
bool ReadLeafWindow(const LeafRange& range, BlockNumber block, Buffer recent, LeafWindow* out);

}  // namespace glue
}  // namespace pgfraud
