# Builds, checks and installs libmemcached-rs (libmemcached.so.11, libmemcached.a) and
# libmemcachedutil-rs (libmemcachedutil.so.2) with the headers and pkg-config file.
#
#   make                  release build: the root package first, then util, which links to it
#   make headers          regenerate the cbindgen headers under include/
#   make check-headers    fail if include/ differs from freshly generated headers
#   make compile-headers  compile every header under include/ as C99 and C++11
#   make install          PREFIX (default /usr/local) and DESTDIR as usual
#   make check-exports    compare exported functions with Debian's libmemcached 1.1.4
#   make check-deps       check SONAMEs and NEEDED entries
# check-exports and check-deps look at target/release, or at LIBDIR=... when given (for
# example LIBDIR=$(PREFIX)/lib after an install).

CARGO ?= cargo
PREFIX ?= /usr/local
DESTDIR ?=
INSTALL ?= install

TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),target)
RELEASE_DIR := $(TARGET_DIR)/release
# Header generation only runs build scripts; a separate target directory keeps it from
# invalidating the release and test builds.
HEADERS_TARGET_DIR := $(TARGET_DIR)/headers

install_libdir := $(abspath $(DESTDIR)$(PREFIX)/lib)
install_includedir := $(abspath $(DESTDIR)$(PREFIX)/include)

# The packages whose build scripts write headers, and the headers they write. Everything else
# under include/ is a hand-written wrapper.
HEADER_PACKAGES ?= -p libmemcached-rs -p libmemcachedutil-rs
GENERATED_HEADERS ?= libmemcached-1.0/memcached.h libmemcachedutil-1.0/util.h

.PHONY: all build headers check-headers compile-headers install check-exports check-deps

all: build

build:
	$(CARGO) build --release -p libmemcached-rs
	$(CARGO) build --release -p libmemcachedutil-rs

# The link directory is passed only so util's build script finds libmemcached.so after a
# `make`; `cargo check` links nothing.
headers:
	LIBMEMCACHED_RS_INCLUDE_DIR='$(CURDIR)/include' LIBMEMCACHED_RS_LINK_DIR='$(abspath $(RELEASE_DIR))' \
	    $(CARGO) check --target-dir '$(HEADERS_TARGET_DIR)' $(HEADER_PACKAGES)

# Generates into an empty directory, overlays the result on a copy of include/ and compares,
# so a header that is no longer generated fails as loudly as one that drifted.
check-headers:
	@set -eu; \
	scratch=$$(mktemp -d); \
	trap 'rm -rf "$$scratch"' EXIT; \
	mkdir "$$scratch/generated" "$$scratch/tree"; \
	LIBMEMCACHED_RS_INCLUDE_DIR="$$scratch/generated" LIBMEMCACHED_RS_LINK_DIR='$(abspath $(RELEASE_DIR))' \
	    $(CARGO) check --quiet --target-dir '$(HEADERS_TARGET_DIR)' $(HEADER_PACKAGES); \
	for header in $(GENERATED_HEADERS); do \
	    if [ ! -f "$$scratch/generated/$$header" ]; then \
	        echo "check-headers: the build did not generate $$header" >&2; exit 1; \
	    fi; \
	done; \
	cp -R include/. "$$scratch/tree/"; \
	cp -R "$$scratch/generated/." "$$scratch/tree/"; \
	if diff -r include "$$scratch/tree"; then \
	    echo "check-headers: include/ matches the generated headers"; \
	else \
	    echo "check-headers: include/ is stale; run 'make headers' and commit the result" >&2; \
	    exit 1; \
	fi

compile-headers:
	scripts/compile-headers.sh include

install: build
	$(INSTALL) -d '$(install_libdir)/pkgconfig' '$(install_includedir)'
	$(INSTALL) -m 0755 '$(RELEASE_DIR)/libmemcached.so' '$(install_libdir)/libmemcached.so.11.0.0'
	ln -sfn libmemcached.so.11.0.0 '$(install_libdir)/libmemcached.so.11'
	ln -sfn libmemcached.so.11 '$(install_libdir)/libmemcached.so'
	$(INSTALL) -m 0755 '$(RELEASE_DIR)/libmemcachedutil.so' \
	    '$(install_libdir)/libmemcachedutil.so.2.0.0'
	ln -sfn libmemcachedutil.so.2.0.0 '$(install_libdir)/libmemcachedutil.so.2'
	ln -sfn libmemcachedutil.so.2 '$(install_libdir)/libmemcachedutil.so'
	$(INSTALL) -m 0644 '$(RELEASE_DIR)/libmemcached.a' '$(install_libdir)/libmemcached.a'
	cd include && find . -name '*.h' | while read -r header; do \
	    $(INSTALL) -D -m 0644 "$$header" '$(install_includedir)'/"$$header" || exit 1; \
	done
	sed 's|@PREFIX@|$(PREFIX)|g' pkgconfig/libmemcached.pc.in \
	    >'$(install_libdir)/pkgconfig/libmemcached.pc'

check-exports:
	scripts/check-exports.sh $(or $(LIBDIR),$(RELEASE_DIR))

check-deps:
	scripts/check-deps.sh $(or $(LIBDIR),$(RELEASE_DIR))
