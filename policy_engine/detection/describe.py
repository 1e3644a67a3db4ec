"""What a detectors directory detects, without building anything (for ``detectors list``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from policy_engine.detection.builtins import BUILTIN_ENTITIES, NER_ENTITIES
from policy_engine.detection.loader import load_detector_set

ALL_BACKENDS = ("patterns", "presidio")


@dataclass(frozen=True)
class DetectorInfo:
    """One detector as reported in spans: its id, what it finds, where it is defined."""

    id: str
    entity_types: tuple[str, ...]
    category: str
    source: Path | None
    kind: str  # builtin, ner, patterns, deny_list or source_code
    backends: tuple[str, ...]
    description: str = ""


def describe_detectors(detectors_dir: Path) -> list[DetectorInfo]:
    """Every detector of ``detectors_dir`` (validated), built-ins first, then by id."""
    detector_set = load_detector_set(detectors_dir)
    by_recognizer: dict[str, list[str]] = {}
    for entity in detector_set.analysis.builtin_entities:
        by_recognizer.setdefault(BUILTIN_ENTITIES[entity], []).append(entity)
    builtins = [
        DetectorInfo(
            id=f"presidio:{name}",
            entity_types=tuple(sorted(entities)),
            category="pii",
            source=detector_set.analysis_source,
            kind="ner" if set(entities) <= NER_ENTITIES else "builtin",
            backends=("presidio",) if set(entities) <= NER_ENTITIES else ALL_BACKENDS,
        )
        for name, entities in by_recognizer.items()
    ]
    yaml_defined = [
        DetectorInfo(
            id=loaded.detector_id,
            entity_types=(loaded.definition.entity_type,),
            category=loaded.definition.category,
            source=loaded.source,
            kind=loaded.definition.kind,
            backends=ALL_BACKENDS,
            description=loaded.definition.description,
        )
        for loaded in detector_set.recognizers
    ]
    return sorted(builtins, key=lambda d: d.id) + sorted(yaml_defined, key=lambda d: d.id)
