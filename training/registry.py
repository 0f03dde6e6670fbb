"""The model registry: every trained version kept, one of them live.

    var/models/                      (PREPAGO_MODEL_REGISTRY)
        manifest.json                the versions, their scores and status, and which one is live
        versions/v0003.tar.gz        a Rasa model, never changed once written
        versions/v0003.labels.yml    the reviewed labels it was trained with (beside data/nlu_es)
        job.json                     the last (or running) retrain: stage, outcome, message
        retrain.lock                 held by the one retrain that runs (CLI or console)

A version's status is `live` (exactly one), `candidate` (being compared),
`rejected` (worse than the live one when it was compared), `retired` (was
live, replaced by a promotion) or `rolled_back` (was live, taken back by
`bot model rollback`). Rasa replicas never read this folder: they poll the
model server (console/models.py), which serves the live version with its
SHA-256 as the ETag.

The model `make train` writes (models/prepago.tar.gz) is adopted as a new
live version when it is new to the registry and newer than the live one: a
deliberate retrain from changed data, or a deploy, is itself a promotion.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tarfile
from datetime import datetime
from pathlib import Path
from typing import Iterator, Optional

from bot.config import PROJECT_ROOT, settings
from bot.models import utcnow

SEED_MODEL = PROJECT_ROOT / "models" / "prepago.tar.gz"
STATUSES = ("live", "candidate", "rejected", "retired", "rolled_back")
STATUS_NAMES = {"live": "en uso", "candidate": "candidato", "rejected": "rechazada", "retired": "retirada",
                "rolled_back": "revertida"}


class RegistryError(RuntimeError):
    """A registry operation that cannot be done (said in Spanish to the operator)."""


class Busy(RegistryError):
    """Another retrain holds the lock."""


def default_root() -> Path:
    return settings().model_registry


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def etag_of(sha256: str) -> str:
    """The HTTP ETag of a model file: its content hash, quoted (a strong validator, RFC 9110)."""
    return f'"{sha256}"'


def model_id_of(path: Path) -> Optional[str]:
    """The `model_id` Rasa reports at /status for this model file (from the archive's metadata.json)."""
    with tarfile.open(path, "r:gz") as archive:
        for member in archive.getmembers():
            if member.name.lstrip("./") == "metadata.json":
                return json.load(archive.extractfile(member)).get("model_id")
    return None


def _alive(pid: Optional[int]) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


class Registry:
    def __init__(self, root: Optional[Path] = None) -> None:
        self.root = Path(root) if root else default_root()
        self.versions_dir = self.root / "versions"
        self.manifest_path = self.root / "manifest.json"
        self.job_path = self.root / "job.json"

    # --- the manifest, read and written under one lock ------------------------------
    def _ensure(self) -> None:
        self.versions_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict]:
        """The manifest for a change; written back atomically (a reader never sees half of it)."""
        self._ensure()
        with open(self.root / ".manifest.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            manifest = self.manifest()
            yield manifest
            self._write(self.manifest_path, manifest)

    def _write(self, path: Path, body: dict) -> None:
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(body, ensure_ascii=False, indent=2))
        os.replace(temporary, path)

    def manifest(self) -> dict:
        if not self.manifest_path.exists():
            return {"versions": [], "history": []}
        return json.loads(self.manifest_path.read_text())

    def versions(self) -> list[dict]:
        return self.manifest()["versions"]

    def get(self, version: str) -> dict:
        found = next((v for v in self.versions() if v["version"] == version), None)
        if found is None:
            raise RegistryError(f"No existe la versión {version}.")
        return found

    def live(self) -> Optional[dict]:
        return next((v for v in self.versions() if v["status"] == "live"), None)

    def path(self, version: str) -> Path:
        return self.versions_dir / f"{version}.tar.gz"

    def labels_path(self, version: str) -> Path:
        return self.versions_dir / f"{version}.labels.yml"

    # --- adding versions ------------------------------------------------------------
    def add(self, model: Path, status: str, labels: Optional[Path] = None, **details) -> dict:
        """Copy a trained model in as the next version (the copy is never changed afterwards)."""
        assert status in STATUSES
        with self._locked() as manifest:
            number = 1 + max((int(v["version"][1:]) for v in manifest["versions"]), default=0)
            version = f"v{number:04d}"
            target = self.path(version)
            shutil.copyfile(model, target)
            target.chmod(0o600)
            if labels is not None:
                shutil.copyfile(labels, self.labels_path(version))
            entry = {"version": version, "created": utcnow().isoformat(timespec="seconds"),
                     "sha256": sha256_of(target), "model_id": model_id_of(target),
                     "status": "candidate" if status == "live" else status, "scores": {}, **details}
            manifest["versions"].append(entry)
            if status == "live":
                self._make_live(manifest, version, details.get("note", ""))
        return self.get(version)

    def adopt(self, seed: Path = SEED_MODEL) -> Optional[dict]:
        """Register the model `make train` wrote, when it is new here and newer than the live one."""
        if not seed.exists():
            return None
        digest = sha256_of(seed)
        live = self.live()
        if any(v["sha256"] == digest for v in self.versions()):
            return None
        trained = datetime.fromtimestamp(seed.stat().st_mtime).astimezone()
        if live is not None and trained <= datetime.fromisoformat(live["created"]):
            return None
        return self.add(seed, "live", note="entrenado con `make train`", labels_count=0)

    def record(self, version: str, **details) -> None:
        """Store more about a version (its scores once measured, the outcome of its comparison)."""
        with self._locked() as manifest:
            entry = next(v for v in manifest["versions"] if v["version"] == version)
            for key, value in details.items():
                if key == "scores":
                    entry["scores"] = {**entry.get("scores", {}), **value}
                else:
                    entry[key] = value

    # --- promotion and rollback -------------------------------------------------------
    def _make_live(self, manifest: dict, version: str, note: str) -> None:
        for entry in manifest["versions"]:
            if entry["status"] == "live":
                entry["status"] = "retired"
        entry = next(v for v in manifest["versions"] if v["version"] == version)
        entry["status"] = "live"
        entry["live_since"] = utcnow().isoformat(timespec="seconds")
        manifest["history"].append({"live": version, "at": entry["live_since"], "note": note})

    def promote(self, version: str, note: str = "promovida") -> dict:
        with self._locked() as manifest:
            if not any(v["version"] == version for v in manifest["versions"]):
                raise RegistryError(f"No existe la versión {version}.")
            self._make_live(manifest, version, note)
        return self.get(version)

    def rollback(self, to: Optional[str] = None) -> tuple[dict, dict]:
        """Take the live version back: the one live before it (or `to`) is live again.

        Returns (the version taken back, the version now live)."""
        with self._locked() as manifest:
            by_name = {v["version"]: v for v in manifest["versions"]}
            current = next((v for v in manifest["versions"] if v["status"] == "live"), None)
            if current is None:
                raise RegistryError("No hay una versión en uso que revertir.")
            if to is None:
                earlier = [h["live"] for h in manifest["history"]
                           if h["live"] != current["version"] and by_name[h["live"]]["status"] == "retired"]
                if not earlier:
                    raise RegistryError(f"{current['version']} es la única versión que ha estado en uso: "
                                        "no hay a cuál volver.")
                to = earlier[-1]
            if to not in by_name or to == current["version"]:
                raise RegistryError(f"No se puede volver a {to}: elige otra versión de `bot model list`.")
            self._make_live(manifest, to, f"reversión de {current['version']}")
            current["status"] = "rolled_back"
        return self.get(current["version"]), self.get(to)

    # --- the one retrain at a time ----------------------------------------------------
    @contextlib.contextmanager
    def retrain_lock(self) -> Iterator[None]:
        """Held for a whole retrain, by the CLI or the console's job alike; Busy if taken."""
        self._ensure()
        with open(self.root / "retrain.lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Busy("Ya hay un reentrenamiento en curso; espera a que termine.") from None
            yield

    def retrain_running(self) -> bool:
        self._ensure()
        with open(self.root / "retrain.lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(lock, fcntl.LOCK_UN)
            return False

    def job(self) -> dict:
        """The last retrain's state; `running` comes from the lock, so a job that died shows as ended."""
        body = json.loads(self.job_path.read_text()) if self.job_path.exists() else {}
        running = self.retrain_running()
        if body.get("state") == "running" and not running:
            if _alive(body.get("pid")):
                running = True  # started, not yet holding the lock
            else:
                body.update(state="failed", message="El reentrenamiento se detuvo sin terminar.")
        return {**body, "running": running}

    def set_job(self, **body) -> None:
        self._ensure()
        self._write(self.job_path, body)
