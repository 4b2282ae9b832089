# hookd - see README.md. `make run` and `make test` are all a newcomer needs:
# both install missing Debian packages (packaging/deps.sh) and configure.

-include config.mk

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
PREFIX ?= /usr/local
DESTDIR ?=
WARN = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CPPFLAGS_ALL = -D_GNU_SOURCE -DHOOKD_VERSION='"$(VERSION)"' -Isrc -Iui -Ivendor
CFLAGS_ALL = -std=c11 $(OPTFLAGS) $(SANFLAGS) $(WARN) $(CPPFLAGS_ALL) $(CFLAGS)
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)

SRV_SRC := $(filter-out src/main.c,$(wildcard src/*.c))
UI_SRC := $(wildcard ui/*.c)
TAP_SRC := $(wildcard vendor/tap/*.c)
SRV_OBJ := $(SRV_SRC:%.c=build/%.o)
UI_OBJ := $(UI_SRC:%.c=build/%.o)
TAP_OBJ := $(TAP_SRC:%.c=build/%.o)
TEST_C := $(wildcard tests/t[0-9]*.c)
TEST_BIN := $(TEST_C:tests/%.c=build/tests/%)
HELPER_C := $(wildcard tests/helpers/*.c)
HELPER_BIN := $(HELPER_C:tests/helpers/%.c=build/tests/helpers/%)
BENCH_C := $(wildcard tests/bench/*.c)
BENCH_BIN := $(BENCH_C:tests/bench/%.c=build/bench/%)
LIBS_ALL = $(LIBS_SERVER) $(LIBS_UI)
UI_LIB := $(if $(UI_OBJ),build/libui.a)

.PHONY: all run test bench install clean deps distclean check-config

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

run: config.mk
	@$(MAKE) --no-print-directory all
	./hookd serve

test: config.mk
	@$(MAKE) --no-print-directory all $(TEST_BIN) $(HELPER_BIN) $(BENCH_BIN)
	prove -j2 --timer --exec tests/run-one $(TEST_BIN) $(sort $(wildcard tests/t[0-9]*.sh))

bench: config.mk
	@$(MAKE) --no-print-directory all $(HELPER_BIN) $(BENCH_BIN)
	sh tests/bench/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 hookd $(DESTDIR)$(PREFIX)/bin/hookd

clean:
	rm -rf build hookd

distclean: clean
	rm -f config.mk

-include $(shell find build -name '*.d' 2>/dev/null)
