# caddy-chroma-auth: the two commands a newcomer needs.
#
#   make run    real Chroma (from npm) behind the gateway, with the demo
#               credentials; prints the URL, the CA root and a curl line
#   make test   every test: gofmt and vet, unit and integration tests with
#               -race, short fuzz runs, and the end-to-end suite against
#               real Chroma and real clients (installs its npm packages)

GO       ?= go
FUZZTIME ?= 5000x

.PHONY: run test check unit fuzz e2e build bench xcaddy mutants

run:
	./scripts/run-demo.sh

test: check unit fuzz e2e

check:
	@out=$$(gofmt -l . | grep -v '^e2e/node_modules/' || true); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd e2e && $(GO) vet ./...

unit:
	$(GO) test -race -count=1 ./...
	# the allocation bounds of the hot paths, which -race skips (it changes
	# allocations): TestHotPathAllocs and the packages' own
	$(GO) test -count=1 -run 'Alloc' . ./audit ./authz ./keyed ./providers ./rows

# Each fuzz target runs briefly: the seed corpus and a few thousand
# mutations of header, path and file parsing on every CI run. A count, not
# a time: a timed run on a loaded machine can end in the fuzzer's own
# "context deadline exceeded". Every target lives in a Caddy-free package
# (authz, providers): `go test -fuzz` compiles its package with coverage
# instrumentation, which for a package importing Caddy means all of Caddy.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseBasic$$' -fuzztime $(FUZZTIME) ./authz
	$(GO) test -run '^$$' -fuzz '^FuzzExtractCredential$$' -fuzztime $(FUZZTIME) ./authz
	$(GO) test -run '^$$' -fuzz '^FuzzPublicMatch$$' -fuzztime $(FUZZTIME) ./authz
	$(GO) test -run '^$$' -fuzz '^FuzzClassify$$' -fuzztime $(FUZZTIME) ./authz
	$(GO) test -run '^$$' -fuzz '^FuzzSkeleton$$' -fuzztime $(FUZZTIME) ./authz
	$(GO) test -run '^$$' -fuzz '^FuzzClientKey$$' -fuzztime $(FUZZTIME) ./authz
	$(GO) test -run '^$$' -fuzz '^FuzzParseHtpasswd$$' -fuzztime $(FUZZTIME) ./providers
	$(GO) test -run '^$$' -fuzz '^FuzzParseTokenFile$$' -fuzztime $(FUZZTIME) ./providers
	$(GO) test -run '^$$' -fuzz '^FuzzGlobMatch$$' -fuzztime $(FUZZTIME) ./providers
	$(GO) test -run '^$$' -fuzz '^FuzzParseKeys$$' -fuzztime $(FUZZTIME) ./providers
	$(GO) test -run '^$$' -fuzz '^FuzzSplitKey$$' -fuzztime $(FUZZTIME) ./providers
	$(GO) test -run '^$$' -fuzz '^FuzzParseCertMatcher$$' -fuzztime $(FUZZTIME) ./providers
	$(GO) test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME) ./jwtauth
	$(GO) test -run '^$$' -fuzz '^FuzzRewrite$$' -fuzztime $(FUZZTIME) ./rows

e2e:
	cd e2e && $(GO) test -race -count=1 -timeout 15m ./...

build:
	$(GO) build -o caddy ./cmd/caddy

bench:
	./bench/run.sh

# The plugin built the way users build it, with xcaddy, from this checkout
# (the @v0.0.0 stands for "this unpublished module": xcaddy asks the module
# proxy for a version otherwise). Slow: it compiles Caddy from scratch.
xcaddy:
	$(GO) install github.com/caddyserver/xcaddy/cmd/xcaddy@latest
	tmp=$$(mktemp -d) && cd $$tmp && \
	  $$($(GO) env GOPATH)/bin/xcaddy build --with github.com/caddy-chroma-auth/caddy-chroma-auth@v0.0.0=$(CURDIR) --output $$tmp/caddy && \
	  $$tmp/caddy list-modules | grep -x http.handlers.chroma_auth && \
	  $$tmp/caddy chroma-auth token >/dev/null && echo "xcaddy build OK" ; rc=$$?; rm -rf $$tmp; exit $$rc

# Mutation testing (not part of `make test`: slow). Each comparison or
# logical operator of the security code flipped and each logical not
# dropped, one mutant at a time (go test -overlay: no file is written), the
# package's tests run against it; the score and the surviving mutants go
# to mutants/RUN.md (mutants/REPORT.md keeps the triage of each survivor).
# file=regexp runs only the tests the regexp names (the root package's
# whole suite is too slow per mutant); MUTANT_BUDGET bounds the run, the
# mutants left are listed as not run.
ROOT_AUTH_TESTS = Limiter|Budget|Blocked|Failure|Concurrent|Nearest|IPv6|ClientKey|Credential|JWT|Basic|Token|Unauthorized|Leak|ClientCert|Bcrypt|Busy|Flood|Trusted|Malformed
MUTANT_FILES ?= authz/scope.go authz/grants.go authz/rbac.go authz/alike.go authz/decision.go authz/resolve.go \
	providers/least.go providers/grants.go jwtauth/verify.go \
	'authenticate.go=$(ROOT_AUTH_TESTS)' limiter/limiter.go 'clientaddr.go=$(ROOT_AUTH_TESTS)' 'credentials.go=$(ROOT_AUTH_TESTS)' \
	authz/nearest.go authz/header.go authz/public.go authz/owners.go providers/keys.go providers/authenticator.go jwtauth/claims.go \
	authz/route_memo.go authz/listcache.go audit/encode.go audit/output.go
MUTANT_BUDGET ?= 60m
mutants:
	mkdir -p mutants
	nice $(GO) run ./scripts/mutants -budget $(MUTANT_BUDGET) $(MUTANT_FILES) > mutants/RUN.md.tmp && mv mutants/RUN.md.tmp mutants/RUN.md
