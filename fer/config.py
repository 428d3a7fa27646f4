"""Typed, frozen settings read once from params.yaml.

The dataclasses are frozen but hold plain dicts (not read-only mappings) so that
they pickle into the training processes.

Each stage receives only its own section. The active profile's overrides are merged
over the base sections key by key before the dataclasses are built, so a profile
only lists what it changes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from fer.errors import ConfigError

BUNDLED_SAMPLE = "fer2013_sample.csv.gz"


@dataclass(frozen=True)
class DataConfig:
    source: str | None
    class_names: tuple[str, ...]
    seed: int
    validation_fraction: float
    test_fraction: float
    max_bad_fraction: float
    format: str = "auto"
    cache: bool = True
    cache_dir: str | None = None

    @property
    def labels(self) -> tuple[int, ...]:
        return tuple(range(len(self.class_names)))

    def source_path(self) -> Path:
        """Return the CSV or image folder to read: the configured source or the bundled sample."""
        if self.source is None:
            return bundled_sample_path()
        return Path(self.source)


QUALITY_POLICIES = {
    "blank_policy": ("report", "drop"),
    "cross_split_policy": ("report", "drop_from_train", "drop_from_test"),
    "label_conflict_policy": ("report", "drop"),
}


@dataclass(frozen=True)
class QualityConfig:
    blank_max_range: int
    blank_policy: str
    cross_split_policy: str
    label_conflict_policy: str


@dataclass(frozen=True)
class AugmentConfig:
    horizontal_flip: bool
    vertical_flip: bool
    random_copies: int
    max_shift: float
    max_rotation: float
    max_zoom: float
    max_brightness: float
    seed: int


@dataclass(frozen=True)
class ModelConfig:
    name: str
    builder: str
    epochs: int
    batch_size: int
    learning_rate: float
    steps_per_epoch: int | None
    options: Mapping[str, Any] = field(default_factory=dict)
    # Wall-clock budget: training stops after the first epoch that ends past it.
    max_minutes: float | None = None
    # CPU threads for this model's process; None shares the cores among the candidates.
    threads: int | None = None


LR_SCHEDULES = ("constant", "cosine", "plateau")
CLASS_WEIGHTS = ("none", "balanced")


@dataclass(frozen=True)
class TrainConfig:
    candidates: tuple[str, ...]
    seed: int
    early_stopping_patience: int
    lr_schedule: str = "constant"
    class_weight: str = "none"
    deterministic: bool = False
    # Random mirror and shift of each training batch, on top of the stored copies.
    online_flip: bool = False
    online_max_shift: float = 0.0


@dataclass(frozen=True)
class EvaluateConfig:
    batch_size: int
    # Average the probabilities of each face and its mirror image.
    flip_tta: bool = False


@dataclass(frozen=True)
class RegisterConfig:
    model_name: str
    alias: str
    selection_metric: str
    # Metric on the test split that a new version must beat to take the alias.
    compare_metric: str = "test_accuracy"
    # When the champion was trained on other data: challenger, promote or compare.
    data_change_policy: str = "challenger"


@dataclass(frozen=True)
class TrackingConfig:
    uri: str
    experiment: str
    artifact_root: str
    # Where `mlflow ui` serves this store; summaries link runs there.
    ui_url: str = "http://127.0.0.1:5000"

    def resolved_uri(self) -> str:
        """Return MLFLOW_TRACKING_URI when set, else the configured URI."""
        return os.environ.get("MLFLOW_TRACKING_URI") or self.uri


@dataclass(frozen=True)
class PredictConfig:
    # None: models:/<register.model_name>@<register.alias>.
    model_uri: str | None = None
    # Images with more pixels than this are refused before they are decoded.
    max_pixels: int = 40_000_000
    # Detections below this confidence are not faces.
    min_face_confidence: float = 0.9
    batch_size: int = 256


@dataclass(frozen=True)
class Config:
    profile: str
    data: DataConfig
    quality: QualityConfig
    augment: AugmentConfig
    train: TrainConfig
    models: Mapping[str, ModelConfig]
    evaluate: EvaluateConfig
    register: RegisterConfig
    tracking: TrackingConfig
    predict: PredictConfig = field(default_factory=PredictConfig)

    def candidate_models(self) -> list[ModelConfig]:
        return [self.models[name] for name in self.train.candidates]


def bundled_sample_path() -> Path:
    """Return the path of the FER2013 sample shipped inside the package."""
    return Path(str(resources.files("fer") / "data" / BUNDLED_SAMPLE))


def load_config(path: str | Path = "params.yaml", profile: str | None = None) -> Config:
    """Read params.yaml, apply the profile's overrides and validate the result.

    `profile` overrides the file's `profile` key. Raises ConfigError naming the
    file and the key that is missing or invalid.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: parameters file not found; run from the project root or pass --params")
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, found {type(raw).__name__}")

    profiles = raw.get("profiles") or {}
    chosen = profile or raw.get("profile") or "full"
    if chosen not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ConfigError(f"{path}: unknown profile {chosen!r}; defined profiles: {known}")
    merged = _deep_merge(raw, profiles[chosen] or {})
    try:
        return _build(merged, chosen)
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(f"{path}: invalid parameters for profile {chosen!r}: {error}") from error


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _section(raw: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    if name not in raw:
        raise KeyError(f"missing section '{name}'")
    return raw[name]


def _build(raw: Mapping[str, Any], profile: str) -> Config:
    data = _section(raw, "data")
    data_config = DataConfig(
        source=data.get("source"),
        class_names=tuple(str(name) for name in data["class_names"]),
        seed=int(data["seed"]),
        validation_fraction=float(data["validation_fraction"]),
        test_fraction=float(data["test_fraction"]),
        max_bad_fraction=float(data["max_bad_fraction"]),
        format=str(data.get("format", "auto")),
        cache=bool(data.get("cache", True)),
        cache_dir=data.get("cache_dir"),
    )
    if data_config.format not in ("auto", "csv", "folder"):
        raise ValueError(f"data.format is {data_config.format!r}; expected auto, csv or folder")
    if len(data_config.class_names) < 2:
        raise ValueError("data.class_names needs at least two classes")
    if not 0 < data_config.validation_fraction + data_config.test_fraction < 1:
        raise ValueError("data.validation_fraction + data.test_fraction must be between 0 and 1")
    if not 0 <= data_config.max_bad_fraction < 1:
        raise ValueError("data.max_bad_fraction must be at least 0 and below 1")

    models = {
        name: ModelConfig(
            name=name,
            builder=str(section["builder"]),
            epochs=int(section["epochs"]),
            batch_size=int(section["batch_size"]),
            learning_rate=float(section["learning_rate"]),
            steps_per_epoch=_optional_int(section.get("steps_per_epoch")),
            options=dict(section.get("options") or {}),
            max_minutes=None if section.get("max_minutes") is None else float(section["max_minutes"]),
            threads=_optional_int(section.get("threads")),
        )
        for name, section in _section(raw, "models").items()
    }
    for model in models.values():
        _check_model(model)

    train = _section(raw, "train")
    train_config = TrainConfig(
        candidates=tuple(train["candidates"]),
        seed=int(train["seed"]),
        early_stopping_patience=int(train["early_stopping_patience"]),
        lr_schedule=str(train.get("lr_schedule", "constant")),
        class_weight=str(train.get("class_weight", "none")),
        deterministic=bool(train.get("deterministic", False)),
        online_flip=bool(train.get("online_flip", False)),
        online_max_shift=float(train.get("online_max_shift", 0.0)),
    )
    if train_config.lr_schedule not in LR_SCHEDULES:
        raise ValueError(
            f"train.lr_schedule is {train_config.lr_schedule!r}; expected one of {', '.join(LR_SCHEDULES)}"
        )
    if train_config.class_weight not in CLASS_WEIGHTS:
        raise ValueError(
            f"train.class_weight is {train_config.class_weight!r}; expected one of {', '.join(CLASS_WEIGHTS)}"
        )
    unknown = [name for name in train_config.candidates if name not in models]
    if unknown:
        raise ValueError(f"train.candidates names {unknown}, which are not defined under 'models'")

    quality = _section(raw, "quality")
    for key, allowed in QUALITY_POLICIES.items():
        if quality[key] not in allowed:
            raise ValueError(f"quality.{key} is {quality[key]!r}; expected one of {', '.join(allowed)}")
    quality_config = QualityConfig(
        blank_max_range=int(quality["blank_max_range"]),
        blank_policy=str(quality["blank_policy"]),
        cross_split_policy=str(quality["cross_split_policy"]),
        label_conflict_policy=str(quality["label_conflict_policy"]),
    )

    register = _section(raw, "register")
    tracking = _section(raw, "tracking")
    return Config(
        profile=profile,
        data=data_config,
        quality=quality_config,
        augment=_augment_config(_section(raw, "augment")),
        train=train_config,
        models=models,
        evaluate=EvaluateConfig(
            batch_size=int(_section(raw, "evaluate")["batch_size"]),
            flip_tta=bool(_section(raw, "evaluate").get("flip_tta", False)),
        ),
        register=RegisterConfig(
            model_name=str(register["model_name"]),
            alias=str(register["alias"]),
            selection_metric=str(register["selection_metric"]),
            compare_metric=str(register.get("compare_metric", "test_accuracy")),
            data_change_policy=_choice(
                register.get("data_change_policy", "challenger"),
                "register.data_change_policy",
                ("challenger", "promote", "compare"),
            ),
        ),
        tracking=TrackingConfig(
            uri=str(tracking["uri"]),
            experiment=str(tracking["experiment"]),
            artifact_root=str(tracking["artifact_root"]),
            ui_url=str(tracking.get("ui_url", TrackingConfig.ui_url)).rstrip("/"),
        ),
        predict=_predict_config(raw.get("predict") or {}),
    )


def _predict_config(section: Mapping[str, Any]) -> PredictConfig:
    defaults = PredictConfig()
    config = PredictConfig(
        model_uri=section.get("model_uri") or None,
        max_pixels=int(section.get("max_pixels", defaults.max_pixels)),
        min_face_confidence=float(section.get("min_face_confidence", defaults.min_face_confidence)),
        batch_size=int(section.get("batch_size", defaults.batch_size)),
    )
    if config.max_pixels < 48 * 48:
        raise ConfigError(f"predict.max_pixels is {config.max_pixels}; it must be at least 2304 (48x48)")
    if not 0 <= config.min_face_confidence <= 1:
        raise ConfigError(
            f"predict.min_face_confidence is {config.min_face_confidence}; expected a value from 0 to 1"
        )
    return config


def _augment_config(augment: Mapping[str, Any]) -> AugmentConfig:
    config = AugmentConfig(
        horizontal_flip=bool(augment["horizontal_flip"]),
        vertical_flip=bool(augment["vertical_flip"]),
        random_copies=int(augment["random_copies"]),
        max_shift=float(augment["max_shift"]),
        max_rotation=float(augment["max_rotation"]),
        max_zoom=float(augment["max_zoom"]),
        max_brightness=float(augment["max_brightness"]),
        seed=int(augment["seed"]),
    )
    if config.random_copies < 0:
        raise ValueError(f"augment.random_copies is {config.random_copies}; expected 0 or more")
    for key in ("max_shift", "max_zoom", "max_brightness"):
        if not 0 <= getattr(config, key) < 1:
            raise ValueError(
                f"augment.{key} is {getattr(config, key)}; expected a fraction from 0 to below 1"
            )
    return config


# Smallest side ResNet50 accepts in keras.applications; checked here, before any training.
RESNET_MIN_INPUT_SIZE = 32


def _check_model(model: ModelConfig) -> None:
    # Options that would fail only once training starts are rejected at load time.
    if model.epochs < 1 or model.batch_size < 1:
        raise ValueError(f"models.{model.name}: epochs and batch_size must be at least 1")
    if model.builder != "resnet50":
        return
    size = int(model.options.get("input_size", 48))
    if size < RESNET_MIN_INPUT_SIZE:
        raise ValueError(
            f"models.{model.name}.options.input_size is {size}; ResNet50 needs at least "
            f"{RESNET_MIN_INPUT_SIZE} pixels per side"
        )
    weights = model.options.get("weights")
    if weights not in (None, "none") and not Path(str(weights)).is_file():
        raise ValueError(
            f"models.{model.name}.options.weights: file {weights} not found; give the path of a "
            f"local ImageNet weights file for ResNet50 without the top (no download happens at run "
            f"time), or null for random initial weights"
        )


def _choice(value: Any, key: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{key} is {value!r}; expected one of {', '.join(allowed)}")
    return str(value)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)
