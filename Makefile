# SPDX-License-Identifier: GPL-2.0
#
# virtio-gpu-rs: a Rust virtio-gpu DRM driver, built out of tree.
#
#   make KDIR=<Rust-enabled 7.2 build tree>   build virtio_gpu_rs.ko
#   make run                                    boot the aarch64 guest, show what the driver finds
#   make check                                  set up everything, run every test suite
#   make setup                                  only install/build the environment
#
# Build-tree selection: KDIR wins; otherwise the harness' cached arm64 kernel is used.

ARCH ?= arm64
LLVM_VERSION ?= 19
VM := tools/testing/vm

ifeq ($(ARCH),arm64)
KARCH := arm64
else ifeq ($(ARCH),x86_64)
KARCH := x86
else
KARCH := $(ARCH)
endif

.PHONY: all modules clean run check setup test-host clippy fmt fmtcheck

all: modules

modules:
	@kdir="$(KDIR)"; [ -n "$$kdir" ] || kdir=$$($(VM)/setup-kernel.sh $(ARCH)); \
	PATH=$$HOME/.cargo/bin:$$PATH $(MAKE) -C "$$kdir" M=$(CURDIR) ARCH=$(KARCH) LLVM=-$(LLVM_VERSION) modules

clippy:
	@kdir="$(KDIR)"; [ -n "$$kdir" ] || kdir=$$($(VM)/setup-kernel.sh $(ARCH)); \
	PATH=$$HOME/.cargo/bin:$$PATH $(MAKE) -C "$$kdir" M=$(CURDIR) ARCH=$(KARCH) LLVM=-$(LLVM_VERSION) CLIPPY=1 modules

# rustfmt with the kernel's configuration (generated bindings excluded).
RUST_SOURCES = $(shell find rust drivers -name '*.rs' -not -name '*_generated.rs' -not -path '*/target/*')
RUSTFMT_CONFIG = $(firstword $(wildcard $(KDIR)/.rustfmt.toml) tools/testing/vm/rustfmt.toml)

fmt:
	PATH=$$HOME/.cargo/bin:$$PATH rustfmt --edition 2021 --config-path $(RUSTFMT_CONFIG) $(RUST_SOURCES)

fmtcheck:
	PATH=$$HOME/.cargo/bin:$$PATH rustfmt --check --edition 2021 --config-path $(RUSTFMT_CONFIG) $(RUST_SOURCES)

clean:
	@kdir="$(KDIR)"; [ -n "$$kdir" ] || kdir=$$($(VM)/setup-kernel.sh $(ARCH) 2>/dev/null) || true; \
	[ -z "$$kdir" ] || $(MAKE) -C "$$kdir" M=$(CURDIR) ARCH=$(KARCH) LLVM=-$(LLVM_VERSION) clean
	rm -rf drivers/gpu/drm/virtio/proto/target out

setup:
	$(VM)/setup.sh

test-host:
	cargo test --manifest-path drivers/gpu/drm/virtio/proto/Cargo.toml

run:
	$(VM)/run.sh

check:
	$(VM)/check.sh
