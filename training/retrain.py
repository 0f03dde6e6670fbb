"""`bot retrain`: a candidate trained on data/nlu_es plus Support's reviewed labels, compared
with the live model, promoted only if it is not worse.

The comparison, in this order (the first failure ends it: a candidate worse on
the development set needs no minutes of cross-validation to be refused):

1. development set (tests/data/nlu_heldout.yml): accuracy and macro-F1;
2. test set (tests/data/nlu_test.yml): accuracy and macro-F1, aggregate only: no
   line, error or confusion of it is ever printed or stored;
3. cross-validation, paired: the same stratified folds of data/nlu_es for both;
   each side trains on a fold's training part plus its own labels and is scored
   on the fold's test part, so both are scored on the same messages and only
   the labels differ.

"Not worse" is each figure ≥ the live model's minus TOLERANCE (0.005,
PREPAGO_RETRAIN_TOLERANCE). The classifier trains deterministically, so
equal data gives equal scores; 0.005 lets a new label cost at most one
message of the development set (353) or three of the test set (683), which a
handful of new examples shifts by chance, while labels that poison an intent
cost many more. The live model's figures are measured once and kept in the
manifest for the sets, data and labels they were measured on.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from bot.config import PROJECT_ROOT, settings
from bot.language import fold
from bot.models import utcnow
from insights.unanswered import export as export_labels
from training.evaluation import (EVAL_SETS, TRAIN_DATA, _quiet_rasa, cross_validate, evaluate_many, folds,
                            load_examples, write_nlu)
from training.registry import Registry, RegistryError

# Where `bot export-training` writes Support's labels and `bot retrain` reads them (never data/nlu_es).
REVIEW_FILE = PROJECT_ROOT / "var" / "review" / "nlu_from_support.yml"
CONFIG = PROJECT_ROOT / "config.yml"
DOMAIN = PROJECT_ROOT / "domain.yml"
RULES = PROJECT_ROOT / "data" / "rules.yml"
# What a model is trained from besides the data: a change here changes every score.
RECIPE_FILES = [CONFIG, DOMAIN, RULES, *sorted((PROJECT_ROOT / "components").glob("*.py")),
                PROJECT_ROOT / "bot" / "language.py", PROJECT_ROOT / "bot" / "periods.py"]
SET_NAMES = {"dev": "desarrollo", "test": "prueba"}
METRIC_NAMES = {"accuracy": "exactitud", "macro_f1": "macro-F1"}


@dataclass
class Settings:
    cv_folds: int = 5
    cv_repeats: int = 1
    tolerance: float = 0.005

    @classmethod
    def from_env(cls) -> "Settings":
        """Cross-validation trains the pipeline once per split (about a minute each here): tests use 2 folds."""
        c = settings()
        return cls(cv_folds=c.retrain_cv_folds, cv_repeats=c.retrain_cv_repeats, tolerance=c.retrain_tolerance)


@dataclass
class Check:
    name: str  # e.g. "dev accuracy"
    candidate: float
    live: float
    ok: bool

    def spanish(self) -> str:
        return f"{self.name}: {self.candidate:.3f} (en uso {self.live:.3f}) {'✔' if self.ok else '✘'}"


@dataclass
class Outcome:
    status: str  # promoted, rejected, nothing
    message: str
    version: Optional[str] = None
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0


def _hash(paths: list[Path], *extra: str) -> str:
    digest = hashlib.sha256()
    for path in paths:
        files = sorted(path.glob("*.yml")) if path.is_dir() else [path]
        for file in files:
            digest.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    for text in extra:
        digest.update(text.encode() + b"\0")
    return digest.hexdigest()[:16]


def reviewed_examples(labels_file: Path) -> tuple[list[tuple[str, str]], int]:
    """The labels to train on, and how many were left out: a text already in data/nlu_es (the
    reviewed data wins) or in the development or test set (training on it would flatter the
    comparison). Compared folded: accents, case and spelling variants count as the same text."""
    if not labels_file.exists():
        return [], 0
    taken = {fold(text) for text, _ in load_examples(TRAIN_DATA)}
    for path in EVAL_SETS.values():
        taken |= {fold(text) for text, _ in load_examples(path)}
    kept, seen, dropped = [], set(), 0
    for text, label in load_examples(labels_file):
        key = fold(text)
        if key in taken or key in seen:
            dropped += 1
            continue
        seen.add(key)
        kept.append((text, label))
    return kept, dropped


def train_model(labels: Path, out: Path) -> Path:
    """A whole Rasa model (NLU and the rules) from data/nlu_es, data/rules.yml and `labels`."""
    from rasa.model_training import train  # Rasa: ≈ 11 s of imports, paid only by the commands that use it

    _quiet_rasa()
    result = train(str(DOMAIN), str(CONFIG), [str(TRAIN_DATA), str(RULES), str(labels)], str(out),
                   fixed_model_name="candidate", force_training=True)
    if result.code != 0 or not result.model:
        raise RegistryError("El entrenamiento del candidato falló (revisa el registro).")
    return Path(result.model)


def _figures(report) -> dict:
    return {"accuracy": round(report.accuracy, 4), "macro_f1": round(report.macro_f1, 4),
            "oos_handled": round(report.out_of_scope_handled, 4), "false_fallback": round(report.false_fallback_rate, 4)}


def set_scores(registry: Registry, version: dict, model: Path, names: list[str]) -> dict:
    """Dev/test figures of a version, measured once per set's content and kept in the manifest."""
    wanted = {name: EVAL_SETS[name] for name in names}
    keys = {name: _hash([path]) for name, path in wanted.items()}
    cached = version.get("scores", {})
    missing = {n: p for n, p in wanted.items() if cached.get(n, {}).get("set") != keys[n]}
    if missing:
        # Only aggregate figures are kept: the reports' errors (test lines among them) are dropped here.
        measured = {n: {"set": keys[n], **_figures(r)} for n, r in evaluate_many(model, missing).items()}
        registry.record(version["version"], scores=measured)
        cached = {**cached, **measured}
    return {name: cached[name] for name in names}


def cv_scores(registry: Registry, version: dict, labels: list[tuple[str, str]], settings: Settings, work: Path,
              progress: Callable[[str], None], who: str) -> dict:
    """Mean macro-F1 over the paired folds for a version's recipe (data/nlu_es + its labels)."""
    base = load_examples(TRAIN_DATA)
    key = _hash([TRAIN_DATA, *RECIPE_FILES], f"{settings.cv_folds}x{settings.cv_repeats}",
                *sorted(f"{t}\t{g}" for t, g in labels))
    cached = version.get("scores", {}).get("cv", {})
    if cached.get("key") == key:
        return cached
    splits = folds(base, settings.cv_folds, settings.cv_repeats)
    scores = cross_validate(version["version"], CONFIG, splits, work, extra=labels,
                            progress=lambda i, n: progress(f"validación cruzada del {who}: pliegue {i} de {n}"))
    figures = {"key": key, "mean": round(statistics.fmean(scores), 4), "std": round(statistics.pstdev(scores), 4),
               "splits": len(scores), "folds": settings.cv_folds, "repeats": settings.cv_repeats}
    registry.record(version["version"], scores={"cv": figures})
    return figures


def _labels_of(registry: Registry, version: dict) -> list[tuple[str, str]]:
    path = registry.labels_path(version["version"])
    return load_examples(path) if path.exists() else []


def retrain(registry: Optional[Registry] = None, labels_file: Path = REVIEW_FILE, export: bool = True,
            settings: Optional[Settings] = None, progress: Optional[Callable[[str], None]] = None,
            by: Optional[str] = None) -> Outcome:
    """The whole loop, one at a time (registry.Busy otherwise). `export` first writes the labels
    Support saved in the console to `labels_file` (insights.unanswered.export)."""
    registry = registry or Registry()
    settings = settings or Settings.from_env()
    with registry.retrain_lock():
        started_at, started = utcnow().isoformat(timespec="seconds"), time.monotonic()

        def stage(text: str) -> None:
            registry.set_job(state="running", stage=text, started=started_at, pid=os.getpid(), by=by)
            if progress:
                progress(text)

        try:
            outcome = _retrain(registry, labels_file, export, settings, stage)
        except Exception as exc:
            registry.set_job(state="failed", started=started_at, finished=utcnow().isoformat(timespec="seconds"),
                             by=by, message=f"El reentrenamiento falló: {exc}")
            raise
        outcome.seconds = round(time.monotonic() - started, 1)
        registry.set_job(state="done", started=started_at, finished=utcnow().isoformat(timespec="seconds"), by=by,
                         outcome=outcome.status, version=outcome.version, message=outcome.message,
                         checks=[c.spanish() for c in outcome.checks], seconds=outcome.seconds)
        return outcome


def _retrain(registry: Registry, labels_file: Path, export: bool, settings: Settings,
             stage: Callable[[str], None]) -> Outcome:
    registry.adopt()
    for stale in (v for v in registry.versions() if v["status"] == "candidate"):
        # Only the retrain holding the lock compares a candidate: one left over was interrupted.
        registry.record(stale["version"], status="rejected", note="reentrenamiento interrumpido")
    live = registry.live()
    if live is None:
        raise RegistryError("No hay un modelo en uso: ejecuta `make train` primero.")
    if export:
        stage("leyendo las etiquetas de Soporte")
        export_labels(labels_file)
    labels, dropped = reviewed_examples(labels_file)
    if not labels or sorted(labels) == sorted(_labels_of(registry, live)):
        return Outcome("nothing", "No hay etiquetas nuevas de Soporte: el modelo en uso ya se entrenó con todas."
                       if labels else "No hay etiquetas revisadas de Soporte: nada que reentrenar.")
    work = Path(tempfile.mkdtemp(prefix="prepago-retrain-"))
    try:
        labels_yml = work / "labels.yml"
        write_nlu(labels, labels_yml)
        stage(f"entrenando el candidato con {len(labels)} etiquetas"
              + (f" ({dropped} omitidas: ya estaban en los datos o en los conjuntos de evaluación)" if dropped else ""))
        model = train_model(labels_yml, work / "out")
        candidate = registry.add(model, "candidate", labels=labels_yml, labels_count=len(labels),
                                 data=_hash([TRAIN_DATA, labels_yml]), parent=live["version"])
        checks: list[Check] = []

        def compare(name: str, mine: float, theirs: float) -> bool:
            checks.append(Check(name, mine, theirs, mine >= theirs - settings.tolerance))
            return checks[-1].ok

        ok = True
        for set_name in ("dev", "test"):
            stage(f"evaluando en el conjunto de {SET_NAMES[set_name]}")
            mine = set_scores(registry, candidate, model, [set_name])[set_name]
            theirs = set_scores(registry, live, registry.path(live["version"]), [set_name])[set_name]
            for metric in ("accuracy", "macro_f1"):
                ok = compare(f"{METRIC_NAMES[metric]} en {SET_NAMES[set_name]}", mine[metric], theirs[metric]) and ok
            if not ok:
                break
        if ok:
            theirs = cv_scores(registry, registry.get(live["version"]), _labels_of(registry, live), settings, work,
                               stage, "modelo en uso")
            mine = cv_scores(registry, registry.get(candidate["version"]), labels, settings, work, stage, "candidato")
            ok = compare(f"validación cruzada (macro-F1, {mine['splits']} pliegues)", mine["mean"], theirs["mean"])
        decision = {"checks": [c.spanish() for c in checks], "tolerance": settings.tolerance}
        if ok:
            registry.record(candidate["version"], comparison=decision)
            registry.promote(candidate["version"], note=f"reentrenado con {len(labels)} etiquetas")
            return Outcome("promoted", f"{candidate['version']} está en uso: no es peor que {live['version']} "
                           f"en ninguna cifra. Las réplicas lo cargan en su próxima consulta al servidor de modelos.",
                           candidate["version"], checks)
        failed = next(c for c in checks if not c.ok)
        registry.record(candidate["version"], status="rejected", comparison=decision)
        return Outcome("rejected", f"{candidate['version']} quedó rechazado: {failed.name} bajó de "
                       f"{failed.live:.3f} a {failed.candidate:.3f}. Sigue en uso {live['version']}; "
                       "revisa las etiquetas de Soporte.", candidate["version"], checks)
    finally:
        shutil.rmtree(work, ignore_errors=True)
