"""The checklist file (``checklist.yaml``): materials, weights and thresholds per loan type.

Thresholds have one source each: the checklist's ``defaults``, then the loan type's own, then
an override from the environment where one is set (``LOANDOCS_MIN_AGE`` and the like, read by
``loandocs.config.Settings``), which wins for every loan type and every path (extract, check,
worker, API). ``Settings.checklist()`` gives the checklist with those overrides applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from loandocs import kinds
from loandocs.errors import ConfigError
from loandocs.models.policy import Thresholds

DEFAULT_PATH = Path(__file__).with_name("checklist.yaml")


class _Strict(BaseModel):
    # Unknown keys are errors: a misspelt threshold must not silently fall back to a default.
    model_config = ConfigDict(extra="forbid")


class Material(_Strict):
    doc_type: str
    name_zh: str
    name_en: str

    @field_validator("doc_type")
    @classmethod
    def _known_kind(cls, v: str) -> str:
        if kinds.get(v) is None:
            raise ValueError(f"{v!r} is not a document kind; known: {', '.join(k.name for k in kinds.KINDS)}")
        return v


class MaterialRef(_Strict):
    material: str
    weight: float = Field(gt=0)
    required: bool = True


class LoanType(_Strict):
    name_zh: str
    name_en: str
    materials: list[MaterialRef] = Field(min_length=1)
    thresholds: dict[str, Any] = Field(default_factory=dict)  # overrides of defaults.thresholds


class Defaults(_Strict):
    thresholds: Thresholds = Field(default_factory=Thresholds)


class Checklist(_Strict):
    version: int = 1
    materials: dict[str, Material]
    defaults: Defaults = Field(default_factory=Defaults)
    loan_types: dict[str, LoanType] = Field(min_length=1)
    _overrides: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check_references(self) -> Checklist:
        for key, lt in self.loan_types.items():
            names = [r.material for r in lt.materials]
            unknown = [n for n in names if n not in self.materials]
            if unknown:
                raise ValueError(f"loan type {key!r} names unknown material(s) {unknown}")
            if len(set(names)) != len(names):
                raise ValueError(f"loan type {key!r} lists a material twice")
            if not any(r.required for r in lt.materials):
                raise ValueError(f"loan type {key!r} has no required material")
            try:
                self.thresholds(key)
            except ValidationError as exc:
                raise ValueError(f"loan type {key!r} thresholds: {_errors(exc)}") from None
        return self

    def with_overrides(self, overrides: Mapping[str, Any]) -> Checklist:
        """This checklist with ``overrides`` winning over every loan type's thresholds."""
        unknown = set(overrides) - set(Thresholds.model_fields)
        if unknown:
            raise ConfigError(f"unknown threshold(s) {sorted(unknown)}")
        copy = self.model_copy()
        copy._overrides = dict(overrides)
        try:
            copy.default_thresholds()
        except ValidationError as exc:
            raise ConfigError(f"threshold override: {_errors(exc)}") from None
        return copy

    def loan_type(self, key: str) -> LoanType:
        try:
            return self.loan_types[key]
        except KeyError:
            known = ", ".join(sorted(self.loan_types))
            raise ConfigError(f"unknown loan type {key!r}; known: {known}", code="unknown_loan_type") from None

    def thresholds(self, key: str) -> Thresholds:
        """The loan type's thresholds: defaults, then its own, then the overrides."""
        lt = self.loan_type(key)
        return Thresholds.model_validate({**self.defaults.thresholds.model_dump(), **lt.thresholds, **self._overrides})

    def default_thresholds(self) -> Thresholds:
        """Thresholds when no loan type is known (``loandocs extract``): defaults, then overrides."""
        return Thresholds.model_validate({**self.defaults.thresholds.model_dump(), **self._overrides})

    def materials_of(self, key: str) -> dict[str, tuple[str, str]]:
        """doc_type -> (Chinese name, English name) of the loan type's materials."""
        return {self.materials[r.material].doc_type: (self.materials[r.material].name_zh, self.materials[r.material].name_en)
                for r in self.loan_type(key).materials}  # fmt: skip


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors())


def load_checklist(path: str | Path | None = None) -> Checklist:
    """The checklist at ``path`` (default: the packaged ``checklist.yaml``, read once), without
    environment overrides (``Settings.checklist()`` adds them)."""
    return _default_checklist() if path is None else _load(Path(path))


@lru_cache(maxsize=1)
def _default_checklist() -> Checklist:
    return _load(DEFAULT_PATH)


def _load(path: Path) -> Checklist:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read checklist {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"checklist {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"checklist {path} must be a mapping with 'materials' and 'loan_types'")
    try:
        return Checklist.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"checklist {path} is invalid: {_errors(exc)}") from None


__all__ = ["Checklist", "LoanType", "Material", "MaterialRef", "Thresholds", "load_checklist"]
