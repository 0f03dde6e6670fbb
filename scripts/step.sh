#!/usr/bin/env bash
# One short Spanish progress line per set-up stage; the stage's full output
# (pip, Rasa's training bars, npm) goes to a log file that failures name.
# Usage: scripts/step.sh "Entrenando el modelo" command [args...]
set -uo pipefail
umask 077  # the log and what the stage creates (var/, models) are this user's only
label="$1"; shift
log="${PREPAGO_SETUP_LOG:-var/logs/setup.log}"
mkdir -p "$(dirname "$log")"
started=$(date +%s)
printf '==> %s… ' "$label"
printf '\n### %s — %s\n$ %s\n' "$(date '+%F %T')" "$label" "$*" >>"$log"
if "$@" >>"$log" 2>&1; then
  printf 'listo (%s s)\n' "$(( $(date +%s) - started ))"
else
  status=$?
  printf 'falló.\n'
  echo "Últimas líneas (el registro completo está en $log):" >&2
  tail -n 25 "$log" >&2
  exit "$status"
fi
