# Thin wrapper around CMake. `make run` and `make test` are the two set-up commands of the README.
# Each target builds only what it runs and asks scripts/deps.sh only for what it needs.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FAILMALLOC_BUILD ?= build-failmalloc
LINT_BUILD ?= build-lint
TSAN_BUILD ?= build-tsan
FUZZ_SECONDS ?= 30
# The server target covers the deepest path (every read boundary of HTTP and WebSocket input): it
# gets at least 120 s, and all of a longer FUZZ_SECONDS.
FUZZ_SERVER_SECONDS ?= $(shell s=$(FUZZ_SECONDS); echo $$((s > 120 ? s : 120)))
# Targets to run, without the fuzz_ prefix (e.g. "server parser"); empty: all of them.
FUZZ_TARGETS ?=
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX     ?= /usr/local
CMAKE_ARGS ?=
# The project's own builds treat warnings as errors (a build that adds wsk to its own does not).
OWN_CMAKE_ARGS = -DWSK_WERROR=ON $(CMAKE_ARGS)
SEED_PORT  ?= 8000
CLUSTER_PORT ?= 8000
WELCOME    := Welcome to the websocket server!!!

.PHONY: all deps build test run run-cluster seed dev sanitize tsan valgrind failmalloc fuzz soak lint \
        bench install fresh-check clean

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	@bash scripts/deps.sh --build
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(OWN_CMAKE_ARGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	@bash scripts/deps.sh --test
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The chat demo: the `wsk` server alone (not the tests and benchmarks of `make build`), relaying
# messages within rooms (the page's URL hash names its room: http://localhost:8000/#lobby).
run: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target wsk
	$(BUILD)/wsk serve --port 8000 --root web --rooms --welcome '$(WELCOME)'

# The same chat on three wsk nodes sharing their rooms through Redis, behind haproxy on
# CLUSTER_PORT (docs/scale-out.md): two tabs may land on different nodes and still chat.
run-cluster: $(BUILD)/CMakeCache.txt
	@bash scripts/deps.sh --cluster
	cmake --build $(BUILD) -j $(JOBS) --target wsk
	@bash scripts/run-cluster.sh $(BUILD) $(CLUSTER_PORT) '$(WELCOME)'

# The seed example: examples/just_ws_server answers every HTTP request with "I am connected!"
# and WebSockets on the same port; examples/justWs.html is its page, opened from the disk.
seed: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target just_ws_server
	@echo "seed: open examples/justWs.html in a browser (file://$(CURDIR)/examples/justWs.html; add ?port=N for a port other than 8000); Ctrl-C stops the server"
	$(BUILD)/examples/just_ws_server $(SEED_PORT)

dev: $(BUILD)/CMakeCache.txt
	@bash scripts/dev.sh

sanitize:
	@bash scripts/deps.sh --test
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWSK_SANITIZE=ON $(OWN_CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

# ThreadSanitizer build, and the tests in which several threads share wsk objects (a hub of loops,
# wsk serve --threads); any report fails them.
TSAN_TESTS ?= unit/test_(hub|loop)|integration/serve_(redis_)?threads
tsan:
	@bash scripts/deps.sh --test
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWSK_TSAN=ON $(OWN_CMAKE_ARGS)
	cmake --build $(TSAN_BUILD) -j $(JOBS)
	cd $(TSAN_BUILD) && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 WSK_EXTRA_THREADS=1 \
	  ctest --output-on-failure -j $(JOBS) -R '$(TSAN_TESTS)'

# The integration tests of the server with every server process under valgrind memcheck: any
# memory error or leak fails them (tests/integration/server_lib.js, WSK_VALGRIND).
VALGRIND_TESTS ?= integration/(server_http|server_ws|server_static|server_robust|serve_options|server_example|server_shutdown|server_api|rooms_example)
valgrind: build
	@bash scripts/deps.sh --valgrind
	cd $(BUILD) && WSK_VALGRIND=1 ctest --output-on-failure -j $(JOBS) -R '$(VALGRIND_TESTS)'

# Every allocation of a scripted server session made to fail in turn (ASan+UBSan build).
failmalloc:
	@bash scripts/deps.sh --test
	cmake -S . -B $(FAILMALLOC_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWSK_SANITIZE=ON -DWSK_FAILMALLOC=ON $(OWN_CMAKE_ARGS)
	cmake --build $(FAILMALLOC_BUILD) -j $(JOBS) --target failmalloc_server failmalloc_client
	for backend in epoll io_uring; do \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  WSK_LOOP_BACKEND=$$backend NODE_PATH=$(CURDIR)/node_modules \
	  node tests/failmalloc/run.js $(FAILMALLOC_BUILD) || exit 1; done

# cppcheck over everything that is built, then the Clang static analyzer (.clang-tidy) over the
# library, the tools and the examples. Any finding fails.
lint:
	@bash scripts/deps.sh --lint
	cppcheck -q --std=c11 --enable=warning,performance,portability --inline-suppr --error-exitcode=1 \
	  -D_GNU_SOURCE -DWSK_WITH_TLS=1 -I include -I src src tools examples tests/helpers fuzz bench
	cmake -S . -B $(LINT_BUILD) -DCMAKE_EXPORT_COMPILE_COMMANDS=ON $(OWN_CMAKE_ARGS) >/dev/null
	run-clang-tidy -quiet -p $(LINT_BUILD) -j $(JOBS) '$(CURDIR)/(src|tools|examples)/'

fuzz:
	@bash scripts/deps.sh --fuzz
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWSK_FUZZ=ON \
	  -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" $(OWN_CMAKE_ARGS)
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@bash scripts/fuzz.sh -t server=$(FUZZ_SERVER_SECONDS) $(FUZZ_BUILD)/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The conformance suites with split delivery (tests/conformance/README.md) over SOAK_SEEDS: each
# seed runs an eighth of the cases, so 1000 seeds run every case 125 times split at random points
# (half of them byte per byte). About 3.5 hours on two cores; every failure prints its seed.
SOAK_SEEDS ?= 1-1000
SOAK_SUITES := server_split server_deflate_split server_split_tls client_split
soak: build
	@bash scripts/deps.sh --test
	@status=0; for t in $(SOAK_SUITES); do \
	  echo "== $$t, split seeds $(SOAK_SEEDS)"; \
	  WSK_BUILD=$(CURDIR)/$(BUILD) WSK_SRC=$(CURDIR) NODE_PATH=$(CURDIR)/node_modules \
	    WSK_SPLIT_SEEDS=$(SOAK_SEEDS) node tests/conformance/$$t.test.js || status=1; \
	done; exit $$status

bench: build
	@bash scripts/deps.sh --test
	@bash bench/run.sh $(BUILD)

install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

# A new user's path on a fresh Debian 12: debootstrap a minimal bookworm root, clone this
# repository into it, and run the README's set-up commands there (scripts/fresh-debian.sh; root).
fresh-check:
	@bash scripts/fresh-debian.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD) $(FAILMALLOC_BUILD) $(LINT_BUILD)
