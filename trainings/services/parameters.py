"""The trainer's parameters a person may set, with the ranges we allow (within the trainer's).

The ranges are defined here once: the web form and the API serializer only parse types (and
show these ranges to the browser and in the OpenAPI schema); `TrainingParameters.from_input`
checks them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from core.exceptions import InvalidInput

# Lowest and highest value allowed, both included.
PARAMETER_RANGES: dict[str, tuple[int | float, int | float]] = {
    "steps": (500, 4000),
    "lora_rank": (1, 128),
    "learning_rate": (0.00001, 0.01),
    "batch_size": (1, 8),
}
FLOAT_PARAMETERS = frozenset({"learning_rate"})
RESOLUTIONS = (512, 768, 1024)


def _plain(number: int | float) -> str:
    """0.00001 as "0.00001", not "1e-05": the numbers of a message a person reads."""
    if isinstance(number, int):
        return str(number)
    return f"{number:.10f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class TrainingParameters:
    steps: int = 1000
    lora_rank: int = 16
    learning_rate: float = 0.0004
    batch_size: int = 1
    resolution: str = "512,768,1024"
    autocaption: bool = True

    @classmethod
    def from_input(cls, data: dict[str, Any] | None) -> TrainingParameters:
        """Check what a person sent (types and ranges); missing keys take the defaults.

        Raises InvalidInput with one message per offending field.
        """
        data = dict(data or {})
        errors: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        known = {field.name for field in fields(cls)}
        for key in data:
            if key not in known:
                errors[key] = ["Unknown training parameter."]
        for name, (low, high) in PARAMETER_RANGES.items():
            if data.get(name) in (None, ""):
                continue
            caster = float if name in FLOAT_PARAMETERS else int
            try:
                value = caster(data[name])
                if caster is int and float(data[name]) != value:
                    raise ValueError
            except (TypeError, ValueError):
                errors[name] = [f"Must be a {'number' if caster is float else 'whole number'}."]
                continue
            if not low <= value <= high:
                errors[name] = [f"Must be between {_plain(low)} and {_plain(high)}."]
                continue
            values[name] = value
        if data.get("resolution") not in (None, ""):
            resolution = data["resolution"]
            parts = (
                resolution
                if isinstance(resolution, list | tuple)
                else str(resolution).replace(" ", "").split(",")
            )
            try:
                sizes = sorted({int(part) for part in parts})
            except (TypeError, ValueError):
                sizes = []
            if not sizes or any(size not in RESOLUTIONS for size in sizes):
                allowed = ", ".join(str(size) for size in RESOLUTIONS[:-1])
                errors["resolution"] = [f"Choose one or more of {allowed} and {RESOLUTIONS[-1]}."]
            else:
                values["resolution"] = ",".join(str(size) for size in sizes)
        if "autocaption" in data and data["autocaption"] is not None:
            value = data["autocaption"]
            if isinstance(value, str):
                value = value.strip().lower() in ("1", "true", "on", "yes")
            values["autocaption"] = bool(value)
        if errors:
            raise InvalidInput(errors)
        return cls(**values)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingParameters:
        """The parameters a run stored (already checked when it started)."""
        known = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def trainer_input(self, *, images_url: str, trigger_word: str) -> dict[str, Any]:
        """The input of `ostris/flux-dev-lora-trainer` for these parameters."""
        return {
            "input_images": images_url,
            "trigger_word": trigger_word,
            "steps": self.steps,
            "lora_rank": self.lora_rank,
            "learning_rate": self.learning_rate,
            "batch_size": self.batch_size,
            "resolution": self.resolution,
            "autocaption": self.autocaption,
            "autocaption_prefix": f"a photo of {trigger_word}, ",
        }
