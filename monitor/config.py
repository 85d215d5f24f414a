"""Load the YAML config: ${ENV} interpolation, one validation pass listing every problem.

Reads the config file and the environment; nothing else. Unknown keys are errors. Secrets
(webhook URLs and signing secrets) are masked in repr, logs and `config show`.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from monitor.errors import ConfigError
from monitor.netguard import AddressPolicy, check_url_policy, check_url_syntax
from monitor.signing import check_secret

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.I)
_SIZE_UNITS = {
    "b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2, "gb": 1000**3, "gib": 1024**3,
}  # fmt: skip
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def parse_duration(value: Any) -> float:
    """Seconds from 30, "30s", "10m", "1.5h", "2d" or "250ms"."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"not a duration: {value!r} (use e.g. 30s, 10m, 2h)")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_size(value: Any) -> int:
    """Bytes from 1048576, "10MB", "512KiB"."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    m = _SIZE.match(str(value))
    if not m:
        raise ValueError(f"not a size: {value!r} (use e.g. 10MB, 512KiB)")
    return int(float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "b").lower()])


Duration = Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]
Size = Annotated[int, BeforeValidator(parse_size), Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PollConfig(_Strict):
    interval: Duration = 600.0
    concurrency: int = Field(default=50, ge=1, le=1000)
    per_host: int = Field(default=6, ge=1)  # fetches at once to one host
    # Processes that parse and match in large cycles (0: all in the daemon's process).
    workers: int = Field(default_factory=lambda: min(4, os.cpu_count() or 1), ge=0, le=64)
    timeout: Duration = 20.0
    max_bytes: Size = 10 * 1000 * 1000
    tick: Duration = 15.0  # how often the dispatcher looks for due feeds
    backfill: Duration = 86400.0  # first poll of a feed alerts only items this recent
    broken_after: Duration = 86400.0  # failing this long raises a feed.broken event


class FeedConfig(_Strict):
    url: str
    interval: Duration | None = None
    tags: list[str] = Field(default_factory=list)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        check_url_syntax(v)
        return v


_DAILY = re.compile(r"^\s*daily at ([01]?\d|2[0-3]):([0-5]\d)\s*$")
EVENT_TYPES = ("match.created", "status.changed", "feed.broken")


def parse_digest(value: Any) -> float | tuple[int, int] | None:
    """`15m` (a rolling window, seconds) or `daily at 08:00` (UTC hour and minute)."""
    if value is None:
        return None
    m = _DAILY.match(str(value))
    if m:
        return int(m.group(1)), int(m.group(2))
    return parse_duration(value)


EventType = Literal["match.created", "status.changed", "feed.broken"]


def _default_events() -> list[EventType]:
    return ["match.created", "status.changed"]


class DestinationConfig(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    type: Literal["slack", "webhook", "console"]
    url: SecretStr | None = None
    secret: SecretStr | None = None
    rules: list[str] = Field(default_factory=lambda: ["*"])
    min_severity: Literal["low", "medium", "high", "critical"] = "low"
    events: list[EventType] = Field(default_factory=_default_events)
    digest: Annotated[float | tuple[int, int] | None, BeforeValidator(parse_digest)] = None
    # Messages per second (0 = no limit) and burst; Slack allows about 1/s.
    rate: float | None = Field(default=None, ge=0)
    burst: int = Field(default=5, ge=1)

    @property
    def effective_rate(self) -> float:
        if self.rate is not None:
            return self.rate
        return 1.0 if self.type == "slack" else 0.0

    @model_validator(mode="after")
    def _needs_url(self) -> DestinationConfig:
        if self.type != "console":
            if self.url is None or not self.url.get_secret_value():
                raise ValueError(f"destination {self.name!r} of type {self.type} needs a url")
            check_url_syntax(self.url.get_secret_value())
        if self.secret is not None:
            if self.type != "webhook":
                raise ValueError("only webhook destinations are signed with a secret")
            check_secret(self.secret.get_secret_value())
        return self


class DeliveryConfig(_Strict):
    timeout: Duration = 15.0
    # Standard Webhooks / Svix-like schedule: delay before attempt 2, 3, ...
    retry_schedule: list[Duration] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]
    )
    max_retry_after: Duration = 86400.0
    # A destination failing (no success at all) for this long is disabled.
    disable_after: Duration = 5 * 86400.0
    # One poll sending more alerts than this to a destination sends one digest instead.
    storm_threshold: int = Field(default=20, ge=1)


class WebConfig(_Strict):
    enabled: bool = False  # `newsmon run` also serves the review UI
    listen: str = "127.0.0.1:8080"

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        host, _, port = v.rpartition(":")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"listen must be host:port, not {v!r}")
        return v


DEFAULT_FEEDS = (
    "https://astanatimes.com/feed/",
    "https://timesca.com/feed/",
    "https://thediplomat.com/feed/",
    "https://www.rferl.org/api/zrqiteuuir",
    "https://tass.com/rss/v2.xml",
    "https://news.google.com/rss/search?q=Taliban+Kazakhstan&hl=en-US&gl=US&ceid=US:en",
    "https://news.google.com/rss/search?q=%D0%A2%D0%B0%D0%BB%D0%B8%D0%B1%D0%B0%D0%BD+%D0%9A%D0%B0%D0%B7%D0%B0%D1%85%D1%81%D1%82%D0%B0%D0%BD&hl=ru&gl=KZ&ceid=KZ:ru",
)


class Config(_Strict):
    database: str = "newsmon.db"
    allow_private_networks: bool = False
    allowed_networks: list[str] = Field(default_factory=list)  # CIDRs opted in, e.g. 10.0.0.0/8
    poll: PollConfig = PollConfig()
    feeds: list[FeedConfig] = Field(
        default_factory=lambda: [FeedConfig(url=u) for u in DEFAULT_FEEDS]
    )
    rules: list[str] = Field(default_factory=list)
    destinations: list[DestinationConfig] = Field(
        default_factory=lambda: [DestinationConfig(name="console", type="console")]
    )
    delivery: DeliveryConfig = DeliveryConfig()
    web: WebConfig = WebConfig()

    @field_validator("allowed_networks")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        for net in v:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError as e:
                raise ValueError(f"not a network: {net!r}") from e
        return v

    @model_validator(mode="after")
    def _public_urls(self) -> Config:
        policy = AddressPolicy(self.allow_private_networks, self.allowed_networks)
        problems = []
        urls = [(f"feeds.{i}.url", f.url) for i, f in enumerate(self.feeds)]
        urls += [
            (f"destinations.{i}.url", d.url.get_secret_value())
            for i, d in enumerate(self.destinations)
            if d.url is not None
        ]
        for where, url in urls:
            try:
                check_url_policy(url, policy)
            except ValueError as e:
                problems.append(f"{where}: {mask(url) if 'destinations' in where else e}")
        if problems:
            raise ValueError("; ".join(problems) + " (non-public address)")
        return self

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        names = [d.name for d in self.destinations]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"destination names must be unique: {', '.join(dupes)}")
        return self

    def masked(self) -> dict[str, Any]:
        """The effective config as plain data, secrets masked (for `config show`)."""
        data = self.model_dump(mode="json")
        for d, dest in zip(data["destinations"], self.destinations, strict=True):
            if dest.url is not None:
                d["url"] = mask(dest.url.get_secret_value())
            if dest.secret is not None:
                d["secret"] = "***"
        return data


def mask(secret: str) -> str:
    """Keep the scheme and host of a URL; hide everything that could be a token."""
    m = re.match(r"^(https?://[^/]+)", secret)
    return f"{m.group(1)}/***" if m else "***"


def _interpolate(value: Any, path: str, problems: list[str]) -> Any:
    if isinstance(value, dict):
        return {
            k: _interpolate(v, f"{path}.{k}" if path else str(k), problems)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_interpolate(v, f"{path}.{i}", problems) for i, v in enumerate(value)]
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in os.environ:
                return os.environ[name]
            if default is not None:
                return default
            problems.append(f"{path}: environment variable {name} is not set")
            return ""

        return _ENV.sub(sub, value)
    return value


def load_config(path: str | Path | None, env: dict[str, str] | None = None) -> Config:
    """The config from `path` (None: built-in defaults), or ConfigError listing every problem."""
    env = dict(os.environ) if env is None else env
    source = str(path) if path else "built-in defaults"
    raw: Any = {}
    if path:
        try:
            raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except OSError as e:
            raise ConfigError([f"cannot read: {e.strerror or e}"], source) from e
        except yaml.YAMLError as e:
            raise ConfigError([f"not valid YAML: {e}"], source) from e
        if not isinstance(raw, dict):
            raise ConfigError(["the config must be a mapping of keys"], source)
    problems: list[str] = []
    raw = _interpolate(raw, "", problems)
    if env.get("NEWSMON_DB"):
        raw["database"] = env["NEWSMON_DB"]
    try:
        config = Config.model_validate(raw)
    except ValidationError as e:
        for err in e.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{loc}: {msg}")
        raise ConfigError(problems, source) from None
    if problems:
        raise ConfigError(problems, source)
    if path and config.rules:
        # Rule paths are relative to the config file, so a config works from any directory.
        base = Path(path).resolve().parent
        rules = [
            str(base / r) if r != "shipped" and not Path(r).is_absolute() else r
            for r in config.rules
        ]
        config = config.model_copy(update={"rules": rules})
    return config
