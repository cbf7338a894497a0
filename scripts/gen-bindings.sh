#!/usr/bin/env bash
# Generates Rust bindings for HEADER (net/bindings.h for net/, the UAPI header for the driver).
#   gen-bindings.sh KDIR HEADER ALLOWLIST OUT
# Reuses the exact bindgen/clang flags the kernel saved for its own bindings, so
# layouts match the tree being built against; only the allowlist is ours.
set -euo pipefail
kdir=$(cd "$1" && pwd); header=$(realpath "$2"); allow=$(realpath "$3"); out=$(realpath -m "$4")
cmdfile="$kdir/rust/bindings/.bindings_generated.rs.cmd"
[ -f "$cmdfile" ] || { echo "gen-bindings: $cmdfile missing: is $kdir a built Rust-enabled tree?" >&2; exit 1; }

saved=$(sed -n 's/^savedcmd_[^ ]* := //p' "$cmdfile")
saved=${saved%%; sed*}            # drop the kernel's post-processing
eval "set -- $saved"              # the saved command is shell-quoted
shift                             # "bindgen"
shift                             # the kernel's own header
bg=(); cl=(); side=bg
while [ $# -gt 0 ]; do
  a=$1; shift
  if [ "$side" = bg ]; then
    case "$a" in
      --) side=cl ;;
      -o) shift ;;
      *) bg+=("$a") ;;
    esac
  else
    case "$a" in
      -Wp,-MMD,*|-DKBUILD_MODFILE=*|-DKBUILD_BASENAME=*|-DKBUILD_MODNAME=*|-D__KBUILD_MODNAME=*) ;;
      *) cl+=("$a") ;;
    esac
  fi
done

allow_args=()
while read -r kind pat; do
  case "$kind" in ''|'#'*) continue ;; esac
  allow_args+=("--allowlist-$kind" "$pat")
done < "$allow"

tmp="$out.tmp"
(cd "$kdir" && bindgen "$header" "${bg[@]}" "${allow_args[@]}" -o "$tmp" -- "${cl[@]}" \
  -I"$(dirname "$header")" -DKBUILD_MODNAME='"rveth"')
mv "$tmp" "$out"
