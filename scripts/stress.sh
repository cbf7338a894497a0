#!/usr/bin/env bash
# make stress: the reliability suite (tests/test_stress.py, test_malformed.py,
# test_guard_reliability.py, test_faults.py) at full scale on the `test` (debug) kernel, in one boot, with
# the same checks and report as make test. make test runs the same tests at scale 1.
#   RVETH_STRESS_SCALE=10 (default): 2000 churned pairs, 200 namespace rounds, ..., and the
#   fault sweeps at every fault point, module load/unload and namespace creation included.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export RVETH_RUN_NAME=stress
export RVETH_STRESS_SCALE=${RVETH_STRESS_SCALE:-10}
export T="${T:-tests/test_stress.py tests/test_malformed.py tests/test_guard_reliability.py tests/test_faults.py}"
# Both pytest passes share this deadline: the stride-1 run took 78 min of it on a busy host.
export RVETH_PYTEST_TIMEOUT=${RVETH_PYTEST_TIMEOUT:-9000}
export RVETH_VM_TIMEOUT=${RVETH_VM_TIMEOUT:-10200}
exec "$here/test.sh"
