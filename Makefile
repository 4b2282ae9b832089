# SPDX-License-Identifier: Apache-2.0
# hookd - see README.md. `make run` and `make test` are all a newcomer needs:
# both install missing Debian packages and configure: `make run` what
# building and running need (packaging/deps.sh), `make test` and the other
# test targets also what the tests need (packaging/deps.sh --test).

-include config.mk

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
PREFIX ?= /usr/local
DESTDIR ?=
WARN = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CPPFLAGS_ALL = -D_GNU_SOURCE -DHOOKD_VERSION='"$(VERSION)"' -Isrc -Iui -Ivendor
CFLAGS_ALL = -std=c11 $(OPTFLAGS) $(SANFLAGS) $(WARN) $(CPPFLAGS_ALL) $(CFLAGS)
LDFLAGS_ALL = $(SANFLAGS) $(HARDEN_LDFLAGS) $(LDFLAGS)

# Cluster mode's NATS client (src/cluster.c, lease.c, clog.c, cfollow.c, cnode.c, cfwd.c,
# cstats.c, cboot.c, cbootnet.c) only when configure found libnats (config.mk: CLUSTER = yes);
# ./configure --without-cluster leaves them out.
CLUSTER_OFF := $(if $(filter yes,$(CLUSTER)),,src/cluster.c src/lease.c src/clog.c src/cfollow.c src/cnode.c src/cfwd.c \
                                               src/cstats.c src/cboot.c src/cbootnet.c)
SRV_SRC := $(filter-out src/main.c $(CLUSTER_OFF),$(wildcard src/*.c))
UI_SRC := $(wildcard ui/*.c)
TAP_SRC := $(wildcard vendor/tap/*.c)
SRV_OBJ := $(SRV_SRC:%.c=build/%.o)
UI_OBJ := $(UI_SRC:%.c=build/%.o)
TAP_OBJ := $(TAP_SRC:%.c=build/%.o)
TEST_C := $(wildcard tests/t[0-9]*.c)
TEST_BIN := $(TEST_C:tests/%.c=build/tests/%)
# natspoke speaks NATS: cluster builds only
HELPER_C := $(filter-out $(if $(filter yes,$(CLUSTER)),,tests/helpers/natspoke.c),$(wildcard tests/helpers/*.c))
HELPER_BIN := $(HELPER_C:tests/helpers/%.c=build/tests/helpers/%)
BENCH_C := $(wildcard tests/bench/*.c)
BENCH_BIN := $(BENCH_C:tests/bench/%.c=build/bench/%)
LIBS_ALL = $(LIBS_SERVER) $(LIBS_UI)
UI_LIB := $(if $(UI_OBJ),build/libui.a)

# Fuzz targets, tests/fuzz/fuzz-NAME.c (see tests/fuzz/harness.h). make test
# links each with replay.c, a plain main() built by $(CC), and replays the
# committed corpus tests/fuzz/corpus/NAME (t0800-fuzz-replay.sh). make fuzz
# builds the library and targets again with clang's libFuzzer, ASan and
# UBSan and runs each for FUZZ_SECONDS (tests/fuzz/run.sh).
FUZZ_C := $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_NAMES := $(FUZZ_C:tests/fuzz/fuzz-%.c=%)
REPLAY_BIN := $(FUZZ_NAMES:%=build/fuzz/replay-%)
FUZZ_BIN := $(FUZZ_NAMES:%=build/fuzz/clang/fuzz-%)
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -O1 -g $(FUZZ_SAN) $(filter-out -Werror,$(WARN)) $(CPPFLAGS_ALL) \
              -Itests/fuzz $(CFLAGS_SERVER)
FUZZ_OBJ := $(SRV_SRC:%.c=build/fuzz/clang/%.o)

.PHONY: all run receiver test bench fuzz crash cluster-crash soak fresh install deb clean deps distclean check-config

all: check-config hookd

check-config:
	@test -f config.mk || { echo "make: no config.mk: run ./configure (or make run / make test)"; exit 1; }

config.mk: configure
	@sh packaging/deps.sh
	./configure

deps:
	@sh packaging/deps.sh

hookd: build/src/main.o build/libhookd.a $(UI_LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ build/src/main.o $(UI_LIB) build/libhookd.a $(LIBS_ALL)

build/libhookd.a: $(SRV_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/libui.a: $(UI_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/libtap.a: $(TAP_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/src/%.o: src/%.c config.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(CFLAGS_SERVER) -MMD -MP -c -o $@ $<

build/ui/%.o: ui/%.c config.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(CFLAGS_UI) -MMD -MP -c -o $@ $<

build/vendor/%.o: vendor/%.c config.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

# Unit tests link the static archives, so the linker pulls in only the
# module under test and what it calls.
build/tests/%: tests/%.c build/libtap.a build/libhookd.a $(UI_LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(CFLAGS_SERVER) $(CFLAGS_UI) -o $@ $< build/libtap.a $(UI_LIB) build/libhookd.a $(LDFLAGS_ALL) $(LIBS_ALL)

build/tests/helpers/%: tests/helpers/%.c build/libhookd.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(CFLAGS_SERVER) -o $@ $< build/libhookd.a $(LDFLAGS_ALL) $(LIBS_SERVER)

build/bench/%: tests/bench/%.c build/libhookd.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(CFLAGS_SERVER) -o $@ $< build/libhookd.a $(LDFLAGS_ALL) $(LIBS_SERVER)

build/fuzz/replay/%.o: tests/fuzz/%.c config.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(CFLAGS_SERVER) -Itests/fuzz -MMD -MP -c -o $@ $<

build/fuzz/replay-%: build/fuzz/replay/fuzz-%.o build/fuzz/replay/harness.o build/fuzz/replay/replay.o build/libhookd.a
	$(CC) -o $@ $^ $(LDFLAGS_ALL) $(LIBS_SERVER)

build/fuzz/clang/%.o: %.c config.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

.PRECIOUS: build/fuzz/replay/%.o build/fuzz/clang/%.o

build/fuzz/clang/libhookd.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/fuzz/clang/fuzz-%: build/fuzz/clang/tests/fuzz/fuzz-%.o build/fuzz/clang/tests/fuzz/harness.o build/fuzz/clang/libhookd.a
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(LDFLAGS) $(LIBS_SERVER)

# make run ARGS='--allow-network 127.0.0.0/8': ARGS go to hookd serve.
run: config.mk
	@$(MAKE) --no-print-directory all
	./hookd serve $(ARGS)

# A receiver to try deliveries with (the README's tour): prints each
# webhook it gets as one JSON line (headers, body, signature) and answers
# 200; a path such as /status/500 or /delay/2000 makes it misbehave.
RECEIVER_PORT ?= 9000
receiver: config.mk
	@$(MAKE) --no-print-directory build/tests/helpers/receiver
	@echo "receiver: http://127.0.0.1:$(RECEIVER_PORT)/ prints each webhook below (Ctrl-C stops it)" >&2
	@build/tests/helpers/receiver --listen 127.0.0.1:$(RECEIVER_PORT) --log /dev/stdout

test: config.mk
	@sh packaging/deps.sh --test
	@$(MAKE) --no-print-directory all $(TEST_BIN) $(HELPER_BIN) $(BENCH_BIN) $(REPLAY_BIN)
	prove -j2 --timer --directives --exec tests/run-one $(TEST_BIN) $(sort $(wildcard tests/t[0-9]*.sh))

fuzz: config.mk
	@$(MAKE) --no-print-directory $(FUZZ_BIN)
	sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)

# The crash campaign (tests/crash/campaign.sh): CRASH_CYCLES rounds of
# kill -9 under load, then every acknowledged message is checked; make test
# runs a 3-cycle version (t0740-crash-short.sh).
CRASH_CYCLES ?= 20
crash: config.mk
	@sh packaging/deps.sh --test
	@$(MAKE) --no-print-directory all $(HELPER_BIN)
	CRASH_CYCLES=$(CRASH_CYCLES) sh tests/crash/campaign.sh

# The cluster crash campaign (tests/crash/cluster-campaign.sh): 3 NATS
# servers, 2 auto hookd nodes under ingest, CLUSTER_CYCLES kill -9s
# alternating between the hookd owner and a NATS server; then nothing
# acknowledged may be lost or undelivered and both stores compare equal.
# Not part of make test (about 20 s a cycle).
CLUSTER_CYCLES ?= 20
cluster-crash: config.mk
	@sh packaging/deps.sh --test
	@$(MAKE) --no-print-directory all $(HELPER_BIN)
	CLUSTER_CYCLES=$(CLUSTER_CYCLES) sh tests/crash/cluster-campaign.sh

bench: config.mk
	@sh packaging/deps.sh --test
	@$(MAKE) --no-print-directory all $(HELPER_BIN) $(BENCH_BIN)
	sh tests/bench/run.sh

# The soak (tests/soak/soak.sh): SOAK_MINUTES of mixed load with failing
# receivers, hookd's memory, descriptors and store sampled every minute.
# Not part of make test or CI.
SOAK_MINUTES ?= 30
soak: config.mk
	@sh packaging/deps.sh --test
	@$(MAKE) --no-print-directory all $(HELPER_BIN) $(BENCH_BIN)
	SOAK_MINUTES=$(SOAK_MINUTES) sh tests/soak/soak.sh

# The README's two commands on a fresh Debian 12 (tests/fresh/fresh.sh):
# a debootstrap minbase root with git and make, a clone of HEAD in it,
# make run until it answers, then make test. Needs root and the network;
# 10 to 40 minutes. Not part of make test or CI.
fresh:
	sh tests/fresh/fresh.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 hookd $(DESTDIR)$(PREFIX)/bin/hookd
	install -m 0644 docs/hookd.1 $(DESTDIR)$(PREFIX)/share/man/man1/hookd.1

# The Debian package (systemd unit, /etc/hookd/hookd.conf, man page):
# $(DEB_OUT)/hookd_VERSION_ARCH.deb
DEB_OUT ?= build
deb: all
	sh packaging/mkdeb.sh $(DEB_OUT)

clean:
	rm -rf build hookd

distclean: clean
	rm -f config.mk

-include $(shell find build -name '*.d' 2>/dev/null)
