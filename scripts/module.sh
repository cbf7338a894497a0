#!/usr/bin/env bash
# Builds rveth.ko against $KDIR (default: the cached kernel of $FLAVOUR) and prints its path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); top=$(dirname "$here")
. "$here/env.sh"
kdir=${KDIR:-$("$here/kernel.sh" "${FLAVOUR:-test}")}
kdir=$(cd "$kdir" && pwd)
cd "$top"
# Objects built for one tree must not be linked against another.
if [ -f .rveth-kdir ] && [ "$(cat .rveth-kdir)" != "$kdir" ]; then
  old=$(cat .rveth-kdir)
  make -s -C "$old" M="$top" "$(kcc_args "$old")" CONFIG_RVETH=m CONFIG_RVETH_SAMPLE_NF_COUNTER=m clean >&2 || true
fi
echo "$kdir" > .rveth-kdir
make -C "$kdir" M="$top" "$(kcc_args "$kdir")" CONFIG_RVETH=m CONFIG_RVETH_SAMPLE_NF_COUNTER=m ${RVETH_MAKEFLAGS:-} >&2
echo "$top/rveth.ko"
