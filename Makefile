# pg_fraud: PGXS build of the extension, plus `make test`, `make demo` and `make bench`.
EXTENSION = pg_fraud
EXTVERSION = 0.3.0
MODULE_big = pg_fraud
OBJS = $(patsubst %.cpp,%.o,$(wildcard extension/*.cpp extension/*/*.cpp src/*/*.cpp))
DATA = $(wildcard sql/pg_fraud--*.sql)

# install runs first: it checks the freshly created extension.
REGRESS = install $(filter-out install,$(patsubst test/sql/%.sql,%,$(sort $(wildcard test/sql/*.sql))))
REGRESS_OPTS = --inputdir=test --outputdir=test --load-extension=pg_fraud
ISOLATION = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/isolation/output_iso --load-extension=pg_fraud

PG_CONFIG ?= pg_config
PG_SERVER_INCLUDE := $(shell $(PG_CONFIG) --includedir-server)
PG_CPPFLAGS = -isystem $(PG_SERVER_INCLUDE) -I$(CURDIR)/src -I$(CURDIR)/extension -isystem /usr/include/eigen3
PG_CXXFLAGS = -std=c++17 -O2 -Wall -Wno-register -Wno-missing-field-initializers -fno-omit-frame-pointer
SHLIB_LINK = -lstdc++

# Track header dependencies: core structs are shared by both halves of the library.
override autodepend = yes

# No LLVM bitcode: the JIT gains nothing on these functions and it would need clang++.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

.PHONY: test demo bench deps installcheck-regress installcheck-isolation
installcheck-regress:
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)
installcheck-isolation:
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)
deps:
	scripts/install-deps.sh
test:
	scripts/test.sh
demo:
	scripts/demo.sh
bench:
	bench/run.sh
