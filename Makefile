# podrun — top-level build. `make demo` and `make check` work on a fresh
# Debian 12 machine as root: both first install the missing packages.

PREFIX ?= /usr/local
DESTDIR ?=
SANITIZE ?=
# Where `make install` puts the systemd units, tmpfiles.d and sysusers.d entries
# (systemd reads /usr/local/lib/… as well as /usr/lib/…; Documentation/systemd.md).
SYSTEMD_UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSTEMD_GENERATORDIR ?= $(PREFIX)/lib/systemd/system-generators
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
# podrun's system configuration directory (the stage1 images, policy.json,
# registries.json, stage1.d, the system trust keys): compiled in as the
# default --system-config, whatever PREFIX is (Documentation/ names it so).
PODRUN_LIBDIR ?= /usr/lib/podrun
CC ?= gcc

# A sanitizer build lives in its own tree so the two never mix objects.
BUILD ?= $(if $(SANITIZE),build/san,build)
BIN := $(BUILD)/bin

PKGS := jansson libarchive sqlite3 libcrypto libseccomp libcap yaml-0.1 libmicrohttpd libsystemd
# Tables give their rows' leading fields and leave the rest zero (as systemd
# builds): -Wno-missing-field-initializers.
WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith -Wmissing-prototypes \
        -Wstrict-prototypes -Wvla -Wundef -Wimplicit-fallthrough -Wno-unused-parameter \
        -Wno-missing-field-initializers
comma := ,
SANFLAGS := $(if $(SANITIZE),-fsanitize=address$(comma)undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 $(WARN) $(SANFLAGS) -D_GNU_SOURCE -DPODRUN_LIBDIR='"$(PODRUN_LIBDIR)"' -I. -Ilib -I$(BUILD)/gen \
        $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
override LDFLAGS += $(SANFLAGS)
# libarchive, libcrypto and libyaml are loaded when first needed (store/dl.h), not
# linked: podrun's other commands skip their ~4.5 ms of library loading.
# The tests that build archives or hash themselves link them.
DL_PKGS := libarchive libcrypto yaml-0.1
LIBS := $(shell pkg-config --libs $(filter-out $(DL_PKGS),$(PKGS)) 2>/dev/null)
SYSTEMD_LIBS := $(shell pkg-config --libs libsystemd 2>/dev/null) -lpthread
TEST_LIBS := $(LIBS) $(shell pkg-config --libs $(DL_PKGS) 2>/dev/null) $(SYSTEMD_LIBS)
# podrun itself is stage0, store and lib (DESIGN §1: stage0 → store → lib):
# no libseccomp, no libcap; those are stage2's (and the stage1s', which link it).
PODRUN_LIBS := $(shell pkg-config --libs jansson sqlite3 2>/dev/null)
# gpgme is loaded when first needed too (store/dl.h), except under the
# sanitizers: gcc 12's LeakSanitizer crashes at exit ("Tracer caught signal
# 11") on the thread-local storage of a dlopen'd library, and libgpgme has
# some; linked, its TLS is in the initial set and dl_load_gpgme finds it loaded.
PODRUN_LIBS += $(if $(SANITIZE),-lgpgme)
# podrun-api (api-service/): libmicrohttpd, sd_listen_fds from libsystemd,
# libcap to keep its one capability; the store read only.
API_LIBS := $(shell pkg-config --libs jansson sqlite3 libmicrohttpd libsystemd libcap 2>/dev/null) -lpthread
API_LIBS += $(if $(SANITIZE),-lgpgme)
MDS_LIBS := $(shell pkg-config --libs jansson libmicrohttpd libsystemd libcap libcrypto 2>/dev/null) -lpthread

# Debian packages needed to build and test (checked with dpkg, installed when root).
DEB_BUILD := build-essential pkg-config libjansson-dev libarchive-dev libsqlite3-dev libssl-dev \
             libcmocka-dev libseccomp-dev libcap-dev libcurl4-openssl-dev libgpgme-dev libyaml-dev \
             libsystemd-dev xz-utils libarchive-tools libmicrohttpd-dev
DEB_TEST := bats busybox-static appc-spec libarchive-tools python3 python3-jsonschema systemd-container procps strace \
            docker-registry skopeo umoci apache2-utils openssl curl nginx-light gnupg gpgv qemu-system-x86 wrk \
             containernetworking-plugins iptables golang-go golang-github-appc-spec-dev containerd podman \
             systemd-journal-remote
DEB_ALL := $(DEB_BUILD) $(DEB_TEST)

# Every module is one static archive; binaries, unit tests and fuzzers link them.
# A module in a folder below the top is named by its path with - for /
# (stage1/nspawn: $(BUILD)/stage1/nspawn/libstage1-nspawn.a). The stage1
# flavors come before what they all link (stage1/common: the entrypoint
# dispatch, the stage2 command line, the pod init, the records), as the
# linker reads them.
MODULES := oci stage0 api-service inspect store stage1/nspawn stage1/fly stage1/kvm stage1/common stage2 lib
module_name = $(subst /,-,$(1))
module_archive = $(BUILD)/$(1)/lib$(call module_name,$(1)).a
module_srcs = $(filter-out $(1)/main%.c,$(sort $(wildcard $(1)/*.c)))
ARCHIVES := $(foreach m,$(MODULES),$(call module_archive,$(m)))

# What runs inside a pod's root is linked statically (not under ASan, which
# cannot be); the stage1 images carry it.
STATIC := $(if $(SANITIZE),,-static)
POD_LIBS := -lseccomp -lcap -ljansson

UNIT_SRCS := $(sort $(wildcard tests/unit/test-*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/tests/%,$(FUZZ_SRCS))
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(TOOL_SRCS))
ATTACK_SRCS := $(sort $(wildcard tests/attack/*.c))
ATTACK_BINS := $(patsubst tests/attack/%.c,$(BUILD)/attack/%,$(ATTACK_SRCS))

DOCS := $(sort $(wildcard Documentation/*.md Documentation/commands/*.md))

.PHONY: all deps demo check bench unit e2e install install-systemd clean images docs
.DELETE_ON_ERROR:

POD_BINS := $(if $(wildcard stage2/main.c),$(BUILD)/stage2/stage2) $(if $(wildcard stage1/fly/main.c),$(BUILD)/stage1/fly/fly)
STAGE1_ACIS := $(BUILD)/stage1-fly.aci $(BUILD)/stage1-nspawn.aci $(BUILD)/stage1-kvm.aci
all: $(BIN)/podrun $(BIN)/podrun-api $(BIN)/podrun-metadata $(BIN)/podrun-oci $(POD_BINS) $(STAGE1_ACIS)

deps:
	@missing=""; for p in $(DEB_ALL); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "make deps: installing$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q --no-install-recommends $$missing >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $$missing; }; \
	else \
	  echo "make deps: missing Debian packages:$$missing (install them as root)"; exit 1; \
	fi

# Objects: one rule for every module, dependency files from the compiler.
$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

define module_rule
$(call module_archive,$(1)): $$(patsubst %.c,$(BUILD)/%.o,$$(call module_srcs,$(1)))
	@mkdir -p $$(@D)
	rm -f $$@ && $$(AR) rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call module_rule,$(m))))

$(BIN)/podrun: $(BUILD)/stage0/main.o $(BUILD)/stage0/libstage0.a $(BUILD)/inspect/libinspect.a $(BUILD)/store/libstore.a \
               $(BUILD)/lib/liblib.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PODRUN_LIBS)

# The OCI runtime (oci/, Documentation/oci-runtime.md): stage0's pod code
# over a bundle; libseccomp to check a config's seccomp filter at create.
$(BIN)/podrun-oci: $(BUILD)/oci/main.o $(BUILD)/oci/liboci.a $(BUILD)/stage0/libstage0.a $(BUILD)/inspect/libinspect.a \
                   $(BUILD)/store/libstore.a $(BUILD)/lib/liblib.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PODRUN_LIBS) -lseccomp

# The API service (DESIGN §1: api-service → inspect, the read side the CLI
# shares → store → lib). It serves the OpenAPI document installed beside
# it, else the source tree's (a build's bin/ is two levels below it).
$(BUILD)/api-service/openapi-doc.o: Documentation/openapi.json
$(BIN)/podrun-api: $(BUILD)/api-service/main.o $(BUILD)/api-service/libapi-service.a $(BUILD)/inspect/libinspect.a \
                   $(BUILD)/store/libstore.a $(BUILD)/lib/liblib.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(API_LIBS)

# The appc metadata service (api-service/mds.c, Documentation/metadata-service.md):
# podrun-api's HTTP core (http.c), libcrypto for the pods' HMAC keys.
$(BIN)/podrun-metadata: $(BUILD)/api-service/main-metadata.o $(BUILD)/api-service/libapi-service.a \
                        $(BUILD)/lib/liblib.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(MDS_LIBS)

# lib's table of syscall names (lib/syscalls.c), generated from the
# libseccomp stage2 links, by a program built for this machine alone.
$(BUILD)/gen/syscall-names: lib/gen/syscall-names.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -o $@ $< $(shell pkg-config --cflags --libs libseccomp 2>/dev/null)
$(BUILD)/gen/syscall-names.h: $(BUILD)/gen/syscall-names
	$< >$@.tmp && mv $@.tmp $@
$(BUILD)/lib/syscalls.o: $(BUILD)/gen/syscall-names.h

$(BUILD)/stage2/stage2: $(BUILD)/stage2/main.o $(BUILD)/stage2/libstage2.a $(BUILD)/lib/liblib.a
	$(CC) $(LDFLAGS) $(STATIC) -o $@ $^ $(POD_LIBS)

STAGE1_COMMON := $(BUILD)/stage1/common/libstage1-common.a

$(BUILD)/stage1/fly/fly: $(BUILD)/stage1/fly/main.o $(BUILD)/stage1/fly/libstage1-fly.a $(STAGE1_COMMON) \
                         $(BUILD)/lib/liblib.a
	$(CC) $(LDFLAGS) $(STATIC) -o $@ $^ $(POD_LIBS)

$(BUILD)/stage1/nspawn/nspawn: $(BUILD)/stage1/nspawn/main.o $(BUILD)/stage1/nspawn/libstage1-nspawn.a \
                               $(STAGE1_COMMON) $(BUILD)/lib/liblib.a
	$(CC) $(LDFLAGS) $(STATIC) -o $@ $^ $(POD_LIBS)

# nspawn's run runs on the host only and links the host's libsystemd
# (stage1/nspawn/systemd.c): dynamic, as podrun itself.
$(BUILD)/stage1/nspawn/run: $(BUILD)/stage1/nspawn/main-run.o $(BUILD)/stage1/nspawn/libstage1-nspawn.a \
                            $(STAGE1_COMMON) $(BUILD)/lib/liblib.a
	$(CC) $(LDFLAGS) -o $@ $^ $(POD_LIBS) $(SYSTEMD_LIBS)

# Each flavor's enter is a binary of its own that links stage2's code: it
# applies the app's isolation in process, executing nothing of the pod's
# before it has; the processes that stay for a pod's life stay small.
$(BUILD)/stage1/fly/enter: $(BUILD)/stage1/fly/main-enter.o $(BUILD)/stage1/fly/libstage1-fly.a $(STAGE1_COMMON) \
                           $(BUILD)/stage2/libstage2.a $(BUILD)/lib/liblib.a
	$(CC) $(LDFLAGS) $(STATIC) -o $@ $^ $(POD_LIBS)

$(BUILD)/stage1/nspawn/enter: $(BUILD)/stage1/nspawn/main-enter.o $(BUILD)/stage1/nspawn/libstage1-nspawn.a \
                              $(STAGE1_COMMON) $(BUILD)/stage2/libstage2.a $(BUILD)/lib/liblib.a
	$(CC) $(LDFLAGS) $(STATIC) -o $@ $^ $(POD_LIBS)

# The kvm flavor (stage1/kvm/): its binary is the host side's entrypoints;
# the guest init (main-guest.c, the VM's pid 1 in the initramfs, and the pod
# init) and the in-guest enter (main-guest-enter.c, which links stage2's code)
# are binaries of their own.
KVM_ARCHIVE := $(call module_archive,stage1/kvm)
$(BUILD)/stage1/kvm/kvm: $(BUILD)/stage1/kvm/main.o $(KVM_ARCHIVE) $(STAGE1_COMMON) $(BUILD)/lib/liblib.a
	$(CC) $(LDFLAGS) $(STATIC) -o $@ $^ $(POD_LIBS)

$(BUILD)/stage1/kvm/guest-enter: $(BUILD)/stage1/kvm/main-guest-enter.o $(KVM_ARCHIVE) $(STAGE1_COMMON) \
                                 $(BUILD)/stage2/libstage2.a $(BUILD)/lib/liblib.a
	$(CC) $(LDFLAGS) $(STATIC) -o $@ $^ $(POD_LIBS)

# The guest init is the VM's pid 1, in the initramfs, and in its child the pod
# init (stage1/common with kvm's hooks, stage2's code in process): static even
# under the sanitizers (it cannot carry their libraries), so built from the
# sources without them.
$(BUILD)/stage1/kvm/guest-init: stage1/kvm/main-guest.c stage1/kvm/frame.c stage1/kvm/init.c \
                                $(call module_srcs,stage1/common) $(call module_srcs,stage2) $(call module_srcs,lib) \
                                $(BUILD)/gen/syscall-names.h
	@mkdir -p $(@D)
	$(CC) $(filter-out $(SANFLAGS),$(CFLAGS)) -static -o $@ $(filter %.c,$^) $(POD_LIBS)

# The guest kernel and its modules, from Debian's linux-image package
# (stage1/kvm/fetch-kernel.sh: never installed on the host). Fetched once
# per build tree; `rm -rf build/kvm` fetches today's again.
KVM_KERNEL_DIR := $(BUILD)/kvm/kernel
$(KVM_KERNEL_DIR)/version: stage1/kvm/fetch-kernel.sh
	@mkdir -p $(BUILD)/kvm
	sh stage1/kvm/fetch-kernel.sh $(KVM_KERNEL_DIR)

# The initramfs: the guest init as /init, the modules (newc cpio, deterministic).
$(BUILD)/kvm/initrd.img: $(BUILD)/stage1/kvm/guest-init $(KVM_KERNEL_DIR)/version stage1/kvm/mkinitrd.sh
	sh stage1/kvm/mkinitrd.sh $@ $(BUILD)/stage1/kvm/guest-init $(KVM_KERNEL_DIR)/modules

# The bench's floor for the kvm row: the same kernel, an initramfs whose
# /init only powers off.
$(BUILD)/kvm/floor-init: bench/floor-init.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -static -o $@ $<
$(BUILD)/kvm/floor.img: $(BUILD)/kvm/floor-init stage1/kvm/mkinitrd.sh
	sh stage1/kvm/mkinitrd.sh $@ $(BUILD)/kvm/floor-init ""

# The probe that test apps run to report what they see (static, libc only).
$(BUILD)/probe: tests/probe/probe.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -static -o $@ $<

# The attack programs of tests/e2e/security.bats (static, libc only, like the probe).
$(BUILD)/attack/%: tests/attack/%.c
	@mkdir -p $(@D)
	$(CC) -O2 -Wall -Wextra -static -o $@ $<

$(BUILD)/tests/test-%: $(BUILD)/tests/unit/test-%.o $(ARCHIVES)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS) -lcmocka

$(BUILD)/tests/fuzz-%: $(BUILD)/tests/fuzz/fuzz-%.o $(BUILD)/tests/fuzz/replay.o $(ARCHIVES)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/tools/%.o $(ARCHIVES)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LIBS)

# The stage1 images (DESIGN §3): ACIs holding the flavor's entrypoints and stage2.
$(BUILD)/stage1-fly.aci: $(BUILD)/stage1/fly/fly $(BUILD)/stage1/fly/enter $(BUILD)/stage2/stage2 stage1/mkaci.sh
	sh stage1/mkaci.sh fly $(BUILD) $@

$(BUILD)/stage1-nspawn.aci: $(BUILD)/stage1/nspawn/nspawn $(BUILD)/stage1/nspawn/run $(BUILD)/stage1/nspawn/enter \
                           $(BUILD)/stage2/stage2 \
                           stage1/mkaci.sh
	sh stage1/mkaci.sh nspawn $(BUILD) $@

$(BUILD)/stage1-kvm.aci: $(BUILD)/stage1/kvm/kvm $(BUILD)/stage1/kvm/guest-enter $(BUILD)/kvm/initrd.img \
                         $(KVM_KERNEL_DIR)/version $(BUILD)/stage2/stage2 stage1/mkaci.sh
	sh stage1/mkaci.sh kvm $(BUILD) $@

# Test images: a busybox ACI made from the machine's own busybox-static.
images: $(BUILD)/busybox.aci
$(BUILD)/busybox.aci: tests/tools/mkaci-busybox.sh
	@mkdir -p $(@D)
	sh tests/tools/mkaci-busybox.sh $@

tests: $(UNIT_BINS) $(FUZZ_BINS) $(TOOL_BINS) $(BUILD)/busybox.aci $(BUILD)/probe $(ATTACK_BINS)
.PHONY: tests

demo: deps
	$(MAKE) all images
	sh tests/tools/demo.sh $(BIN)/podrun $(BUILD)/busybox.aci

check: deps
	$(MAKE) all tests
	BUILD=$(BUILD) PODRUN=$(abspath $(BIN)/podrun) sh tests/run.sh

# The benchmarks against the peers (bench/run.sh installs them; see
# Documentation/performance.md).
bench: deps
	$(MAKE) all images $(BUILD)/probe $(BUILD)/kvm/floor.img
	BUILD=$(BUILD) PODRUN=$(abspath $(BIN)/podrun) sh bench/run.sh

# Refreshes the --help blocks of Documentation/commands/*.md from the binary.
docs: $(BIN)/podrun
	sh tests/tools/gendoc.sh $(BIN)/podrun

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PODRUN_LIBDIR) $(DESTDIR)$(PREFIX)/share/doc/podrun
	install -m 0755 $(BIN)/podrun $(DESTDIR)$(PREFIX)/bin/podrun
	install -m 0755 $(BIN)/podrun-api $(DESTDIR)$(PREFIX)/bin/podrun-api
	install -m 0755 $(BIN)/podrun-metadata $(DESTDIR)$(PREFIX)/bin/podrun-metadata
	install -m 0755 $(BIN)/podrun-oci $(DESTDIR)$(PREFIX)/bin/podrun-oci
	install -d $(DESTDIR)$(PREFIX)/share/podrun
	install -m 0644 Documentation/openapi.json $(DESTDIR)$(PREFIX)/share/podrun/openapi.json
	$(if $(DESTDIR),,getent group podrun >/dev/null || groupadd --system podrun)
	$(if $(STAGE1_ACIS),install -m 0644 $(STAGE1_ACIS) $(DESTDIR)$(PODRUN_LIBDIR)/)
	install -m 0644 conf/registries.json $(DESTDIR)$(PODRUN_LIBDIR)/registries.json
	install -m 0644 conf/policy.json $(DESTDIR)$(PODRUN_LIBDIR)/policy.json
	install -m 0644 $(DOCS) README.md $(DESTDIR)$(PREFIX)/share/doc/podrun/
	$(MAKE) install-systemd

# The systemd units, tmpfiles.d and sysusers.d entries (Documentation/systemd.md).
install-systemd:
	install -d $(DESTDIR)$(SYSTEMD_UNITDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSUSERSDIR)
	sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@DOCDIR@|$(PREFIX)/share/doc/podrun|g' conf/systemd/podrun-gc.service.in \
	  >$(DESTDIR)$(SYSTEMD_UNITDIR)/podrun-gc.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_UNITDIR)/podrun-gc.service
	install -m 0644 conf/systemd/podrun-gc.timer $(DESTDIR)$(SYSTEMD_UNITDIR)/podrun-gc.timer
	sed 's|@BINDIR@|$(PREFIX)/bin|g' conf/systemd/podrun-api.service.in >$(DESTDIR)$(SYSTEMD_UNITDIR)/podrun-api.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_UNITDIR)/podrun-api.service
	install -m 0644 conf/systemd/podrun-api.socket $(DESTDIR)$(SYSTEMD_UNITDIR)/podrun-api.socket
	sed 's|@BINDIR@|$(PREFIX)/bin|g' conf/systemd/podrun-metadata.service.in \
	  >$(DESTDIR)$(SYSTEMD_UNITDIR)/podrun-metadata.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_UNITDIR)/podrun-metadata.service
	install -m 0644 conf/systemd/podrun-metadata.socket $(DESTDIR)$(SYSTEMD_UNITDIR)/podrun-metadata.socket
	install -m 0644 conf/systemd/podrun.tmpfiles $(DESTDIR)$(TMPFILESDIR)/podrun.conf
	install -m 0644 conf/systemd/podrun.sysusers $(DESTDIR)$(SYSUSERSDIR)/podrun.conf
	install -d $(DESTDIR)$(SYSTEMD_GENERATORDIR)
	ln -sf $(PREFIX)/bin/podrun $(DESTDIR)$(SYSTEMD_GENERATORDIR)/podrun-generator

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
