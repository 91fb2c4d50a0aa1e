// The trigger's history lookup without SPI: B-tree scans of the attached table's
// (entity, time) index and (entity, new column) indexes, tuples read in place. It gathers
// exactly the rows the SPI lookup's queries return (history_lookup.cpp falls back to those
// when the relation is not a plain table with such an index).
#pragma once

#include <string>
#include <vector>

#include "history/history_features.hpp"
#include "history/history_leaf_window.hpp"
#include "pg_headers.hpp"

namespace pgfraud {
namespace glue {

// One entity's scans of one table, resolved once (see RowLookup in history_lookup.cpp).
struct DirectEntityScan {
  Oid heap = InvalidOid;
  Oid window_index = InvalidOid;  // btree whose first keys are (entity, time)
  RegProcedure entity_eq = InvalidOid, time_lt = InvalidOid, time_le = InvalidOid, time_ge = InvalidOid;
  int16 entity_len = 0;  // the entity type's typlen and typbyval (the first-time hints' keys)
  bool entity_byval = false;
  AttrNumber by_att = 0;
  AttrNumber time_att = 0;
  std::vector<AttrNumber> time_atts;                     // {time_att}
  std::vector<std::vector<AttrNumber>> fresh_time_atts;  // per new column: {time_att, its attribute}
  Oid time_type = InvalidOid;
  std::vector<AttrNumber> amount_atts, distinct_atts, fresh_atts;
  std::vector<Oid> amount_types, distinct_types, fresh_types;
  std::vector<Oid> fresh_index;        // per new column: btree (entity, column[, time]), or InvalidOid
  std::vector<RegProcedure> fresh_eq;  // its equality on the column
  std::vector<bool> fresh_index_time;  // its third key is the time
  RegProcedure fresh_time_lt = InvalidOid;
  // Per heap attribute number, its column in the window index / each new-column index (0: none).
  std::vector<int> window_positions;
  bool fresh_in_window = false;   // the window index holds every new column (INCLUDE)
  bool entity_ascending = false;  // the window index's entity key is ASC NULLS LAST (FirstTimeOnLeaf)
  bool window_covered = false;    // the window index holds the time, amount and distinct columns
  std::vector<std::vector<int>> fresh_positions;
};

// Plans the scans of entity `by` of `spec` in `relid`; false when they cannot be done directly
// (not a plain heap table, no usable index, a type the index's operators do not take).
bool PlanDirectScan(Oid relid, const HistorySpec& spec, size_t entity, Oid entity_type, Oid time_type,
                    const std::vector<Oid>& fresh_types, DirectEntityScan* out);

// Scratch of DirectScan, owned by its caller (outside PgCall: no C++ object with a destructor
// lives in a frame an error may longjmp over).
struct DirectScratch {
  std::vector<int64_t> times;
  std::vector<double> amounts;
  std::vector<std::optional<std::string>> distinct;
  std::vector<std::string> fresh_text;  // per new column: the current value's text
  std::vector<uint8_t> matches;         // per window row x new column: it holds the current value
  std::vector<ItemPointerData> tids;    // window rows on pages not all-visible: their heap tuples,
  std::vector<size_t> unchecked;        // their rows,
  std::vector<uint8_t> visible;         // and whether each is visible
  std::string hint_key;
  BlockNumber oldest_page = InvalidBlockNumber;  // the window index leaf of the oldest window row
  Buffer oldest_buffer = InvalidBuffer;          // and the buffer it was read into
  LeafWindow leaf;                               // the window read off leaf copies (ReadLeafWindow)
};

// Fills `past` with the entity's rows earlier than `time` (microseconds `now`), as the SPI
// lookup would, under the snapshot its queries would have (a new command id: what the
// statement inserted before is seen). fresh_values: the row's new-column datums (in the
// row's types) and their NULL flags. PostgreSQL code: call inside PgCall.
void DirectScan(const DirectEntityScan& plan, const HistorySpec& spec, Datum entity, Datum time, int64_t now,
                const Datum* fresh_values, const bool* fresh_nulls, DirectScratch* scratch, EntityPast* past);

// An amount column's value as float8, as its SQL cast gives it. PostgreSQL code.
double AmountValue(Oid type, Datum value);

// The text a value compares by in `new` and `distinct` (as its ::text cast: char(n) padding
// dropped). PostgreSQL code.
std::string ValueText(Oid type, Datum value);

}  // namespace glue
}  // namespace pgfraud
