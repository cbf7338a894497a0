# rveth front door. Every target installs what it needs first (scripts/bootstrap.sh).
#   make            build rveth.ko against the cached `test` kernel (built if missing)
#   make kernel     build the kernel flavour FLAVOUR (test|bench)
#   make test       KUnit + guest selftests in one QEMU boot; T=... selects pytest tests
#   make stress     the reliability suite at full scale (long); make test runs it short
#   make run        the demo: two namespaces joined by rveth, traffic, ip/ethtool output
#   make bench      rveth vs veth/netkit/lo in one boot of the `bench` kernel, ratio table + SVG
#                   (quick: ROUNDS=3; ROUNDS=6 for claims; scripts/bench.sh lists the knobs)
#   make check      rustfmt check + the kernel's CLIPPY=1 build, zero warnings
#   make plugin     build + install link_rveth.so, the iproute2 plugin (test and run do it)
# KDIR=<built Rust-enabled kernel tree> builds against another tree.

FLAVOUR ?= test
export FLAVOUR KDIR T ROUNDS DURATION PAIRS WORKLOADS DEVICES PERF TCGPROF KO KO_B MEM_PAIRS GROWTH BIG_ROUNDS

.PHONY: all module kernel test stress run bench check clean bootstrap plugin

all: module

bootstrap:
	@scripts/bootstrap.sh

kernel: bootstrap
	@scripts/kernel.sh $(FLAVOUR) >/dev/null

module: bootstrap
	@scripts/module.sh >/dev/null

test: bootstrap plugin
	@scripts/test.sh

stress: bootstrap plugin
	@scripts/stress.sh

run: bootstrap plugin
	@scripts/run.sh

bench: bootstrap
	@scripts/bench.sh

plugin: bootstrap
	@scripts/plugin.sh

check: bootstrap
	@scripts/check.sh

clean:
	@if [ -f .rveth-kdir ]; then . scripts/env.sh && k=$$(cat .rveth-kdir) && \
	  $(MAKE) -s -C "$$k" M=$(CURDIR) "$$(kcc_args "$$k")" CONFIG_RVETH=m CONFIG_RVETH_SAMPLE_NF_COUNTER=m clean; fi
	@rm -rf .rveth-kdir results
