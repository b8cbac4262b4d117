#!/usr/bin/env bash
# The README's set-up commands are the ones `make fresh-check` runs on a fresh Debian 12: the
# fenced block under "## Set up (fresh Debian)", comments aside, line for line the QUICK_START
# list of scripts/fresh-debian.sh, which runs them verbatim in a debootstrapped root.
set -euo pipefail
: "${WSK_SRC:?}"
readme=$(awk '/^## Set up \(fresh Debian\)/ { on = 1 } on && /^```sh$/ { inside = 1; next }
  inside && /^```$/ { exit } inside { sub(/ +#.*$/, ""); print }' "$WSK_SRC/README.md")
script=$(awk '/^QUICK_START=\($/ { on = 1; next } on && /^\)$/ { exit }
  on { sub(/^ *"/, ""); sub(/"$/, ""); print }' "$WSK_SRC/scripts/fresh-debian.sh")
[ -n "$readme" ] || { echo "readme_quickstart: no sh block under '## Set up (fresh Debian)'" >&2; exit 1; }
if [ "$readme" != "$script" ]; then
  echo "readme_quickstart: the README's set-up commands differ from what fresh-debian.sh runs" >&2
  diff <(echo "$readme") <(echo "$script") >&2 || true
  exit 1
fi
grep -q 'make fresh-check' "$WSK_SRC/README.md"
echo "readme_quickstart: $(echo "$readme" | wc -l) commands, the same in the README and in fresh-debian.sh"
