// The single place that includes PostgreSQL's headers, wrapped for C++.
#pragma once

// C++ headers first: PostgreSQL's port.h redefines snprintf and friends as macros, which
// breaks any standard or library header included after it.
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

extern "C" {
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "optimizer/cost.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "commands/async.h"
#include "utils/json.h"
#include "utils/fmgroids.h"
#include "nodes/makefuncs.h"
#include "utils/relcache.h"
#include "access/genam.h"
#include "utils/typcache.h"
#include "windowapi.h"
#include "storage/lock.h"
#include "common/hashfn.h"
#include "utils/regproc.h"
#include "utils/datetime.h"
}
