// The time zone a model's hour_of_day and day_of_week are read in, from PostgreSQL's
// time-zone database: for timestamptz columns (ColumnPlan::zone) and for texts with a UTC
// offset (Feature::local_time). Zones are resolved once per backend and kept.
#pragma once

#include <string>

#include "model/model.hpp"
#include "pg_headers.hpp"

extern "C" {
#include "pgtime.h"
}

namespace pgfraud {
namespace glue {

// The zone of that name; throws Error (22023) when PostgreSQL does not know it. PostgreSQL code.
pg_tz* ZoneNamed(const std::string& name);

// The zone a model reads times in: its time_zone, or nullptr (the session's) when it has none.
inline pg_tz* ModelZone(const Model& model) { return model.time_zone.empty() ? nullptr : ZoneNamed(model.time_zone); }

// Points the model's hour_of_day and day_of_week features at its zone (a no-op without one).
void SetLocalTime(Model* model);

// The session's TimeZone setting as a zone name.
std::string SessionZoneName();

}  // namespace glue
}  // namespace pgfraud
