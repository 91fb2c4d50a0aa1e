// Model time zones from PostgreSQL's time-zone database (see the header).
#include "values/time_zones.hpp"

#include <map>
#include <memory>

#include "common/errors.hpp"
#include "guard.hpp"

extern "C" {
#include "utils/datetime.h"
#include "utils/timestamp.h"
}

namespace pgfraud {
namespace glue {
namespace {

class ZoneLocalTime final : public LocalTime {
 public:
  explicit ZoneLocalTime(pg_tz* zone) : zone_(zone) {}
  void At(int64_t unix_seconds, int* hour, int* day_of_week) const override {
    // Seconds since 1970 to PostgreSQL's microseconds since 2000 (a time far outside
    // timestamptz's range keeps the hour and weekday as written).
    constexpr int64_t kShift = static_cast<int64_t>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
    const TimestampTz ts = (unix_seconds - kShift) * USECS_PER_SEC;
    struct pg_tm tm = {};
    fsec_t fsec;
    int tz;
    if (!IS_VALID_TIMESTAMP(ts) || timestamp2tm(ts, &tz, &tm, &fsec, nullptr, zone_) != 0) return;
    *hour = tm.tm_hour;
    *day_of_week = j2day(date2j(tm.tm_year, tm.tm_mon, tm.tm_mday));
  }

 private:
  pg_tz* zone_;
};

// Zones and their LocalTime, by name, for the backend's life (PostgreSQL keeps pg_tz too).
std::map<std::string, std::unique_ptr<ZoneLocalTime>> g_local_times;

}  // namespace

pg_tz* ZoneNamed(const std::string& name) {
  pg_tz* zone = PgCall([&] { return pg_tzset(name.c_str()); });
  if (zone == nullptr) {
    throw Error(ErrorCode::kInvalidParameterValue, "time zone \"" + name + "\" is not known",
                "A model's time_zone is a name from PostgreSQL's pg_timezone_names, such as UTC or Europe/Paris.");
  }
  return zone;
}

void SetLocalTime(Model* model) {
  if (model->time_zone.empty()) return;
  auto it = g_local_times.find(model->time_zone);
  if (it == g_local_times.end()) {
    it = g_local_times.emplace(model->time_zone, std::make_unique<ZoneLocalTime>(ZoneNamed(model->time_zone))).first;
  }
  for (Feature& f : model->features) {
    if (f.kind == FeatureKind::kHourOfDay || f.kind == FeatureKind::kDayOfWeek) f.local_time = it->second.get();
  }
}

std::string SessionZoneName() {
  return PgCall([] { return std::string(pg_get_timezone_name(session_timezone)); });
}

}  // namespace glue
}  // namespace pgfraud
