#!/usr/bin/env bash
# Print the path of a Python that Rasa 3.6 supports and our code needs (3.9-3.10), preferring 3.10.
# Looks at $PYTHON, then python3.10/3.9 on PATH, then pyenv's installed versions.
set -euo pipefail

ok() { "$@" -c 'import sys; assert (3, 9) <= sys.version_info[:2] <= (3, 10)' >/dev/null 2>&1; }
path_of() { "$@" -c 'import sys; print(sys.executable)'; }

if [ -n "${PYTHON:-}" ]; then
  if ok "$PYTHON"; then path_of "$PYTHON"; exit 0; fi
  echo "PYTHON=$PYTHON is not Python 3.9-3.10, which Rasa 3.6 and this project require." >&2; exit 1
fi
for minor in 3.10 3.9; do
  if command -v "python$minor" >/dev/null 2>&1 && ok "python$minor"; then path_of "python$minor"; exit 0; fi
  if command -v pyenv >/dev/null 2>&1; then
    for version in $(pyenv versions --bare 2>/dev/null | grep -E "^${minor//./\\.}\.[0-9]+$" | sort -t. -k3 -n -r); do
      candidate="$(pyenv root)/versions/$version/bin/python$minor"
      if [ -x "$candidate" ] && ok "$candidate"; then echo "$candidate"; exit 0; fi
    done
  fi
done
cat >&2 <<'MSG'
No Python 3.9-3.10 found; Rasa 3.6 does not run on newer versions.
Install Python 3.10, then run this command again. For example:
  pyenv install 3.10.13            (with pyenv)
  sudo apt-get install python3.10-venv   (Debian/Ubuntu with the deadsnakes PPA)
Or point to one explicitly:  make run PYTHON=/path/to/python3.10
MSG
exit 1
