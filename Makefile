# dozor — PGXS build. The object list reads as a table of contents.
EXTENSION   = dozor
EXTVERSION  = 0.2.0

MODULE_big  = dozor
OBJS = \
	src/dozor.o \
	src/json_scan.o \
	src/gzip.o \
	src/url_pathname.o \
	src/event.o \
	src/batch_index.o \
	src/xxh64.o \
	src/ingest.o \
	src/session_lock.o \
	src/ingest_store.o \
	src/activity.o \
	src/timeline.o \
	src/stream.o \
	src/session.o \
	src/history_build.o \
	src/history.o \
	src/console.o \
	src/merged.o \
	src/markers.o \
	src/keyframes.o \
	src/mapping.o

# The install script: the core (tables, ingest, read side), then the
# dashboard's queries, then partition management, then distribution over
# Citus, then access control (grants of all of the above), concatenated to the versioned name. Each part is one concern; together
# they are one install script.
INSTALL_PARTS = src/dozor.sql src/dashboard.sql src/partitions.sql src/distribute.sql src/access.sql
DATA_built  = dozor--$(EXTVERSION).sql
# Upgrade scripts, one per step; ALTER EXTENSION dozor UPDATE chains them.
# Globbed in $(srcdir) so that VPATH builds (pg_buildext, debian/) find them.
DATA        = $(patsubst $(srcdir)/%,%,$(wildcard $(srcdir)/upgrade/dozor--*--*.sql))
EXTRA_CLEAN = dozor--$(EXTVERSION).sql $(OBJS:.o=.d)

# In order: setup defines the helpers the others use.
REGRESS      = setup gzip url_pathname ingest ingest_errors history timeline console events markers activity corruption player dashboard tombstones access partitions distribute postgrest
REGRESS_OPTS = --load-extension=dozor

SHLIB_LINK += -ldeflate
PG_CPPFLAGS += -I$(srcdir)/src
PG_CFLAGS   += -ffp-contract=off -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-sign-compare
# Objects rebuild when a header they include changes (PGXS tracks that only
# for servers configured with --enable-depend).
PG_CFLAGS   += -MMD -MP

# No LLVM bitcode: JIT inlining of dozor is not worth a clang dependency.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# A VPATH build (pg_buildext builds in debian's build-15/) compiles src/*.c
# into the build directory's src/, which the compiler does not create.
ifneq ($(abspath $(srcdir)),$(CURDIR))
$(shell mkdir -p src)
endif

# The benchmark (not a test): bench/run.sh; BENCH_1M=1 adds the 1M session.
.PHONY: bench
bench:
	bash bench/run.sh

# The upgrade's cost on a ~1.1 GB store of the last release: bench/upgrade.sh.
.PHONY: bench-upgrade
bench-upgrade:
	bash bench/upgrade.sh

# Cost as the store grows (10^4 vs 10^5 batches) and ingest against its floor: bench/scale.sh.
.PHONY: bench-scale
bench-scale:
	bash bench/scale.sh

# One node vs a Citus coordinator + 2 workers (needs Citus): bench/citus.sh.
.PHONY: bench-citus
bench-citus:
	bash bench/citus.sh

# The Debian package postgresql-15-dozor, into build/deb/ (debian/, pg_buildext).
.PHONY: deb
deb:
	bash scripts/build-deb.sh

# The PGXN release archive: the committed tree at HEAD, named by version.
.PHONY: dist
dist:
	mkdir -p build
	git archive --format zip --prefix=dozor-$(EXTVERSION)/ -o build/dozor-$(EXTVERSION).zip HEAD

dozor--$(EXTVERSION).sql: $(INSTALL_PARTS)
	cat $^ > $@

-include $(OBJS:.o=.d)
