# Thin wrapper around CMake. `make run` and `make test` are the two set-up commands of the README.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FAILMALLOC_BUILD ?= build-failmalloc
LINT_BUILD ?= build-lint
FUZZ_SECONDS ?= 30
# The server target covers the deepest path (every read boundary of HTTP and WebSocket input): it
# gets at least 120 s, and all of a longer FUZZ_SECONDS.
FUZZ_SERVER_SECONDS ?= $(shell s=$(FUZZ_SECONDS); echo $$((s > 120 ? s : 120)))
# Targets to run, without the fuzz_ prefix (e.g. "server parser"); empty: all of them.
FUZZ_TARGETS ?=
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX     ?= /usr/local
CMAKE_ARGS ?=
WELCOME    := Welcome to the websocket server!!!

.PHONY: all deps build test run dev sanitize valgrind failmalloc fuzz lint bench install clean

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	@bash scripts/deps.sh --build
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_ARGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	@bash scripts/deps.sh --test
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

run: build
	./$(BUILD)/wsk serve --port 8000 --root web --broadcast --welcome '$(WELCOME)'

dev: build
	@bash scripts/dev.sh

sanitize:
	@bash scripts/deps.sh --test
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWSK_SANITIZE=ON $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

# The integration tests of the server with every server process under valgrind memcheck: any
# memory error or leak fails them (tests/integration/server_lib.js, WSK_VALGRIND).
VALGRIND_TESTS ?= integration/(server_http|server_ws|server_static|server_robust|serve_options|server_example|server_shutdown|server_api)
valgrind: build
	@bash scripts/deps.sh --test
	cd $(BUILD) && WSK_VALGRIND=1 ctest --output-on-failure -j $(JOBS) -R '$(VALGRIND_TESTS)'

# Every allocation of a scripted server session made to fail in turn (ASan+UBSan build).
failmalloc:
	@bash scripts/deps.sh --test
	cmake -S . -B $(FAILMALLOC_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWSK_SANITIZE=ON -DWSK_FAILMALLOC=ON $(CMAKE_ARGS)
	cmake --build $(FAILMALLOC_BUILD) -j $(JOBS) --target failmalloc_server failmalloc_client
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  NODE_PATH=$(CURDIR)/node_modules node tests/failmalloc/run.js $(FAILMALLOC_BUILD)

# cppcheck over everything that is built, then the Clang static analyzer (.clang-tidy) over the
# library, the tools and the examples. Any finding fails.
lint:
	@bash scripts/deps.sh --test
	cppcheck -q --std=c11 --enable=warning,performance,portability --inline-suppr --error-exitcode=1 \
	  -D_GNU_SOURCE -DWSK_WITH_TLS=1 -I include -I src src tools examples tests/helpers fuzz bench
	cmake -S . -B $(LINT_BUILD) -DCMAKE_EXPORT_COMPILE_COMMANDS=ON $(CMAKE_ARGS) >/dev/null
	run-clang-tidy -quiet -p $(LINT_BUILD) -j $(JOBS) '$(CURDIR)/(src|tools|examples)/'

fuzz:
	@bash scripts/deps.sh --build
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWSK_FUZZ=ON \
	  -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" $(CMAKE_ARGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@bash scripts/fuzz.sh -t server=$(FUZZ_SERVER_SECONDS) $(FUZZ_BUILD)/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

bench: build
	@bash scripts/deps.sh --test
	@bash bench/run.sh $(BUILD)

install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(FAILMALLOC_BUILD) $(LINT_BUILD)
