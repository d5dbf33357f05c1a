# safedeploy: build, set-up, tests, install, sanitizer builds.
# `make deps` installs what is missing; `make test` builds and runs everything.

PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share
CC         ?= cc
PKG_CONFIG ?= pkg-config
SHELL      := /bin/bash

# Libraries, one place; every flag comes from pkg-config.
PKGS := libcurl jansson libgit2 yaml-0.1 libpcre2-8 libcrypto sqlite3

# Debian packages the build and the tests need (`make deps`).
DEB_PKGS := build-essential pkg-config git ca-certificates \
	libcurl4-openssl-dev libjansson-dev libgit2-dev libyaml-dev \
	libpcre2-dev libssl-dev libsqlite3-dev \
	bats bats-support bats-assert bats-file \
	mandoc clang-format clang libclang-rt-dev util-linux bash-completion zsh fish \
	python3 jq bc shellcheck nginx-light time curl openssl valgrind cppcheck \
	trash-cli libglib2.0-bin gvfs gvfs-daemons dbus-daemon dnsmasq-base sqlite3 chromium \
	strace e2fsprogs fdisk rsync

# Parallel sub-builds for test, valgrind and fuzz (one job per CPU).
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)

WARN   := -Wall -Wextra -Wshadow -Wformat=2 -Wno-missing-field-initializers
CSTD   := -std=c11 -D_GNU_SOURCE
OPT    ?= -O2 -g
ifeq ($(DEVELOPER),1)
WARN   += -Werror
endif
ifneq ($(SANITIZE),)
SAN    := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT    := -O1 -g
endif

PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

ALL_CFLAGS  = $(CSTD) $(OPT) $(WARN) $(SAN) -Ilib -Ibuild $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAN) -Wl,--as-needed $(LDFLAGS)
LIBS        = $(PKG_LIBS) -lresolv -lpthread

CMDS      := $(notdir $(wildcard cmd/*))
BINS      := $(addprefix bin/,$(CMDS))
LIB_SRC   := $(wildcard lib/*.c)
LIB_OBJ   := $(patsubst %.c,build/%.o,$(LIB_SRC))
LIBSAFE   := build/libsafe.a
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,build/tests/%,$(UNIT_SRC))
MANPAGES  := $(wildcard cmd/*/*.1)
HOOKS     := $(filter-out hooks/README%,$(wildcard hooks/*))

# Fuzzing (tests/fuzz/README): every tests/fuzz/fuzz_NAME.c is a target, its
# seeds in tests/fuzz/corpus/NAME/, its past crashes in tests/fuzz/crashes/NAME/.
# libFuzzer builds (clang) go to build/fuzz/; the same targets are also built
# by $(CC) with a small main() (build/tests/fuzz_NAME) that `make test`
# runs to replay every seed and crash file.
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRC))
FUZZ_BINS    := $(addprefix build/fuzz/fuzz_,$(FUZZ_NAMES))
FUZZ_REPLAY  := $(addprefix build/tests/fuzz_,$(FUZZ_NAMES))
FUZZ_LIB_OBJ := $(patsubst %.c,build/fuzz/%.o,$(LIB_SRC))
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_CFLAGS   = $(CSTD) -O1 -g -fno-omit-frame-pointer $(WARN) -Ilib -Ibuild \
	-Itests/fuzz $(PKG_CFLAGS)

.PHONY: all deps test check unit lint bench demo install uninstall clean FORCE \
	fuzz fuzz-build fuzz-regress valgrind cppcheck
.DEFAULT_GOAL := all

all: $(BINS)

# Rebuild everything when the compiler flags change (e.g. SANITIZE on/off).
build/CFLAGS: FORCE
	@mkdir -p build
	@echo '$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(LIBS)' > $@.new
	@if cmp -s $@.new $@; then rm -f $@.new; else mv $@.new $@; fi

# The version: `git describe` on a tagged checkout, else the VERSION file.
build/version.h: FORCE
	@mkdir -p build
	@v=$$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null | sed 's/^v//'); \
	[ -n "$$v" ] || v=$$(cat VERSION); \
	echo "#define SD_VERSION \"$$v\"" > $@.new; \
	if cmp -s $@.new $@; then rm -f $@.new; else mv $@.new $@; fi

# The git hook shims as C arrays for `safedeploy hook install` (one source:
# the files under hooks/, which `make install` installs as they are).
build/hooks.h: $(HOOKS)
	@mkdir -p build
	@for h in $(HOOKS); do \
		n=$$(basename "$$h" | tr - _)_shim; \
		printf 'static const char %s[] = {\n' "$$n"; \
		od -An -v -tx1 "$$h" | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1, /g'; \
		printf '0x00};\n'; \
	done > $@.new && mv $@.new $@

build/cmd/safedeploy/flags.o: build/hooks.h

build/%.o: %.c build/CFLAGS build/version.h $(wildcard lib/*.h) $(wildcard cmd/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBSAFE): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# Keep the objects of cmd/*: they are not intermediate files.
.SECONDARY:
.SECONDEXPANSION:
# saferm stands in for rm, so its start-up time counts: libcrypto linked
# statically saves the loading and relocation of the shared one (about a
# millisecond per run, tests/bench/saferm.sh). Not for safedeploy, whose
# libcurl loads the shared libcrypto anyway.
bin/saferm: LIBS = $(filter-out -lcrypto,$(PKG_LIBS)) -Wl,-Bstatic -lcrypto \
	-Wl,-Bdynamic -lpthread -ldl

bin/%: $$(addprefix build/,$$(subst .c,.o,$$(wildcard cmd/$$*/*.c))) $(LIBSAFE)
	@mkdir -p bin
	$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBSAFE) $(LIBS)

build/tests/%: tests/unit/%.c tests/unit/unit.h $(LIBSAFE) build/CFLAGS
	@mkdir -p build/tests
	$(CC) $(ALL_CFLAGS) -Itests/unit $(ALL_LDFLAGS) -o $@ $< \
		$(filter build/cmd/%,$^) $(LIBSAFE) $(LIBS)

# The unit tests of saferun's planners link the command's own objects
# (cmd/saferun/*.c are not in libsafe).
SAFERUN_TOOL_OBJ := build/cmd/saferun/tools.o build/cmd/saferun/tools_run.o \
	build/cmd/saferun/tools_fs.o build/cmd/saferun/tools_remote.o
SAFERUN_UNIT := build/tests/test_toolsfs build/tests/test_toolsremote
$(SAFERUN_UNIT): $(SAFERUN_TOOL_OBJ)

# The replay driver: each seed and crash file through a target, once.
build/tests/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h \
		$(LIBSAFE) build/CFLAGS
	@mkdir -p build/tests
	$(CC) $(ALL_CFLAGS) -Itests/fuzz -DFUZZ_NAME='"$*"' $(ALL_LDFLAGS) -o $@ \
		tests/fuzz/replay.c $< $(filter build/cmd/%,$^) $(LIBSAFE) $(LIBS)

unit: $(UNIT_BINS) $(FUZZ_REPLAY)

# libFuzzer builds: lib/ instrumented for coverage, ASan and UBSan.
build/fuzz/CFLAGS: FORCE
	@mkdir -p build/fuzz
	@echo '$(FUZZ_CC) $(FUZZ_CFLAGS) $(LIBS)' > $@.new
	@if cmp -s $@.new $@; then rm -f $@.new; else mv $@.new $@; fi

build/fuzz/lib/%.o: lib/%.c build/fuzz/CFLAGS build/version.h $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined \
		-fno-sanitize-recover=all -c -o $@ $<

# saferun's preview parsers are fuzzed with the command's own objects.
build/fuzz/cmd/saferun/%.o: cmd/saferun/%.c build/fuzz/CFLAGS build/version.h \
		$(wildcard lib/*.h cmd/saferun/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined \
		-fno-sanitize-recover=all -c -o $@ $<
build/fuzz/fuzz_preview: $(patsubst build/%,build/fuzz/%,$(SAFERUN_TOOL_OBJ))
build/tests/fuzz_preview: $(SAFERUN_TOOL_OBJ)

build/fuzz/libsafe.a: $(FUZZ_LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h build/fuzz/libsafe.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ $< $(filter build/fuzz/cmd/%,$^) \
		build/fuzz/libsafe.a $(LIBS)

fuzz-build: $(FUZZ_BINS)

# Each target for FUZZ_SECONDS on a scratch corpus, FUZZ_JOBS at a time
# (default: the number of CPUs, at most 2; tests/helpers/pool.bash).
fuzz:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory -j$(JOBS) fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run $(FUZZ_NAMES)

# Every seed and crash file once through the libFuzzer builds.
fuzz-regress:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory -j$(JOBS) fuzz-build
	@tests/fuzz/run --replay $(FUZZ_NAMES)

# Installs what is missing, builds, and runs unit and bats tests together,
# ending with one summary line: "tests: N passed, N failed".
test check:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory -j$(JOBS) all unit
	@tests/run $(UNIT_BINS) $(FUZZ_REPLAY)

# The unit tests and the fuzz replay drivers under valgrind memcheck,
# VALGRIND_JOBS at a time (tests/valgrind/run; third-party noise in
# tests/valgrind/valgrind.supp). Valgrind and the sanitizers do not mix, so
# this builds without SANITIZE: after a plain `make test` nothing is rebuilt.
valgrind:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory -j$(JOBS) SANITIZE= unit
	@tests/valgrind/run $(UNIT_BINS) $(FUZZ_REPLAY)

# Static analysis of lib/ and cmd/. False positives: inline
# "cppcheck-suppress ID" comments with the reason, or, for one that holds
# everywhere, tests/cppcheck/suppressions. jansson.h comes first for its
# foreach macros; libc and the other libraries are cppcheck's own
# configurations (--library), not their headers. "information" makes a
# suppression that no longer matches anything an error.
JANSSON_H      = $(shell $(PKG_CONFIG) --variable=includedir jansson 2>/dev/null)/jansson.h
CPPCHECK_FLAGS = --enable=warning,portability,performance,information \
	--error-exitcode=1 --inline-suppr --quiet --std=c11 -D_GNU_SOURCE \
	-I lib -I build --include=$(JANSSON_H) \
	--library=posix,gnu,libcurl,openssl,sqlite3 \
	--suppressions-list=tests/cppcheck/suppressions \
	--suppress=missingIncludeSystem

cppcheck:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory build/version.h
	cppcheck $(CPPCHECK_FLAGS) lib cmd

# The first command for a newcomer: a local fleet where one pod runs old code.
demo:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	@tests/fleet/demo.sh

deps:
	@missing=; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -q '^install ok installed' \
			|| missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		export DEBIAN_FRONTEND=noninteractive; \
		$$sudo apt-get update -qq && \
		$$sudo apt-get install -y -qq --no-install-recommends $$missing >/dev/null \
			|| { echo "deps: apt-get install failed for:$$missing" >&2; exit 1; }; \
	fi

lint:
	clang-format --dry-run --Werror $(LIB_SRC) $(wildcard lib/*.h) \
		$(wildcard cmd/*/*.c cmd/*/*.h) $(UNIT_SRC) tests/unit/unit.h \
		$(wildcard tests/fuzz/*.c tests/fuzz/*.h)
	mandoc -Tlint -W warning $(MANPAGES)
	shellcheck -s bash tests/run tests/fuzz/run tests/valgrind/run tests/bench/run tests/fleet/*.sh tests/bench/*.sh tests/bench/*.bash .ci/run \
		tests/helpers/*.bash tests/helpers/*.sh $(wildcard completions/*.bash) $(HOOKS)

# Every benchmark (or those in BENCH, e.g. BENCH=flags), one table on stdout:
# the machine, each figure, its target, measured/target, PASS or MISS. The
# build's output and the progress go to stderr, each benchmark's own output to
# build/bench/NAME.log. Fails only when a benchmark does; BENCH_QUICK=1 runs
# small sizes to check the machinery (tests/bench/run, tests/bench/report.bash).
BENCH ?=
bench:
	@$(MAKE) --no-print-directory all >&2
	@bash tests/bench/run $(BENCH)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(DATADIR)/bash-completion/completions \
		$(DESTDIR)$(DATADIR)/zsh/site-functions \
		$(DESTDIR)$(DATADIR)/fish/vendor_completions.d \
		$(DESTDIR)$(DATADIR)/safedeploy/hooks
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(MANPAGES) $(DESTDIR)$(MANDIR)/man1/
	for c in $(CMDS); do \
		[ ! -f completions/$$c.bash ] || install -m 0644 completions/$$c.bash \
			$(DESTDIR)$(DATADIR)/bash-completion/completions/$$c; \
		[ ! -f completions/_$$c ] || install -m 0644 completions/_$$c \
			$(DESTDIR)$(DATADIR)/zsh/site-functions/_$$c; \
		[ ! -f completions/$$c.fish ] || install -m 0644 completions/$$c.fish \
			$(DESTDIR)$(DATADIR)/fish/vendor_completions.d/$$c.fish; \
	done
	$(if $(HOOKS),install -m 0755 $(HOOKS) $(DESTDIR)$(DATADIR)/safedeploy/hooks/)

uninstall:
	for c in $(CMDS); do \
		rm -f $(DESTDIR)$(BINDIR)/$$c $(DESTDIR)$(MANDIR)/man1/$$c.1 \
			$(DESTDIR)$(DATADIR)/bash-completion/completions/$$c \
			$(DESTDIR)$(DATADIR)/zsh/site-functions/_$$c \
			$(DESTDIR)$(DATADIR)/fish/vendor_completions.d/$$c.fish; \
	done
	rm -rf $(DESTDIR)$(DATADIR)/safedeploy
	-rmdir $(DESTDIR)$(DATADIR)/safedeploy 2>/dev/null

clean:
	rm -rf bin build tests/.results
