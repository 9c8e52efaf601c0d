"""Prices and the per-run cost meter.

`PRICES` holds USD per 1M input / output tokens for known models, as listed on the
providers' public pricing pages on `PRICES_AS_OF` (2025-11-25). Prices change and newer
models are missing: check before quoting a cost, and add or correct entries without
editing code with a JSON file named by `$WEBJUDGE_PRICES`
(`{"anthropic/claude-opus-4-7": [5.0, 25.0], ...}`) or `register_price(...)`. Notes:

- A model id matches its entry exactly or with a dated snapshot suffix
  (`claude-sonnet-4-20250514`, `gpt-4o-2024-08-06`); other names are unknown.
- Unknown models (local vLLM servers, new releases) record `cost_usd=None` and their
  token counts only; they are not limited by a budget (a warning says so).
- Output tokens include reasoning/"thinking" tokens, which all three providers bill as
  output. Gemini 2.5 Pro charges more above 200k prompt tokens; the table uses the
  lower tier (the prompts here stay far below it). Batch/cached-input discounts are
  ignored.

`CostMeter(max_cost)` sums spending over a run and refuses a new uncached call once
the budget is used up (`BudgetExceeded`); cache hits count as `saved_usd`.
"""
from __future__ import annotations

import json
import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from judge.errors import WebjudgeError

log = logging.getLogger("webjudge.agents.cost")

PRICES_AS_OF = "2025-11-25"


@dataclass(frozen=True)
class Price:
    """USD per 1M tokens."""

    input_per_m: float
    output_per_m: float


PRICES: dict[str, Price] = {
    # OpenAI
    "openai/gpt-4o": Price(2.50, 10.00),
    "openai/gpt-4o-2024-05-13": Price(5.00, 15.00),
    "openai/gpt-4o-mini": Price(0.15, 0.60),
    "openai/gpt-4.1": Price(2.00, 8.00),
    "openai/gpt-4.1-mini": Price(0.40, 1.60),
    "openai/gpt-4.1-nano": Price(0.10, 0.40),
    "openai/o3": Price(2.00, 8.00),
    "openai/o4-mini": Price(1.10, 4.40),
    "openai/gpt-5": Price(1.25, 10.00),
    "openai/gpt-5-mini": Price(0.25, 2.00),
    "openai/gpt-5-nano": Price(0.05, 0.40),
    "openai/gpt-5.1": Price(1.25, 10.00),
    # Anthropic
    "anthropic/claude-opus-4-5": Price(5.00, 25.00),
    "anthropic/claude-sonnet-4-5": Price(3.00, 15.00),
    "anthropic/claude-haiku-4-5": Price(1.00, 5.00),
    "anthropic/claude-opus-4-1": Price(15.00, 75.00),
    "anthropic/claude-opus-4": Price(15.00, 75.00),
    "anthropic/claude-sonnet-4": Price(3.00, 15.00),
    "anthropic/claude-3-7-sonnet": Price(3.00, 15.00),
    "anthropic/claude-3-5-sonnet": Price(3.00, 15.00),
    "anthropic/claude-3-5-haiku": Price(0.80, 4.00),
    "anthropic/claude-3-haiku": Price(0.25, 1.25),
    # Google (Gemini API, paid tier, prompts <= 200k tokens)
    "google/gemini-2.5-pro": Price(1.25, 10.00),
    "google/gemini-2.5-flash": Price(0.30, 2.50),
    "google/gemini-2.5-flash-lite": Price(0.10, 0.40),
    "google/gemini-2.0-flash": Price(0.10, 0.40),
    "google/gemini-2.0-flash-lite": Price(0.075, 0.30),
}

_SNAPSHOT = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$")
_loaded_overrides: str | None = None


def register_price(spec: str, input_per_m: float, output_per_m: float) -> None:
    """Add or correct the price of `provider/model` (USD per 1M tokens)."""
    if "/" not in spec or input_per_m < 0 or output_per_m < 0:
        raise ValueError(f"expected provider/model and prices >= 0, got {spec!r}")
    PRICES[spec] = Price(float(input_per_m), float(output_per_m))


def _load_overrides() -> None:
    """Read `$WEBJUDGE_PRICES` once per distinct value (a JSON object spec -> [in, out])."""
    global _loaded_overrides
    path = os.environ.get("WEBJUDGE_PRICES")
    if not path or path == _loaded_overrides:
        return
    try:
        data = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
        for spec, (inp, out) in data.items():
            register_price(spec, inp, out)
        _loaded_overrides = path
    except (OSError, ValueError, TypeError, AttributeError) as e:
        raise ValueError(f"WEBJUDGE_PRICES={path}: expected a JSON object "
                         f'{{"provider/model": [input_per_m, output_per_m]}} ({e})') from None


def price_for(provider: str, model: str) -> Price | None:
    """The price of `provider/model`, or None when unknown."""
    _load_overrides()
    key = f"{provider}/{model}"
    if key in PRICES:
        return PRICES[key]
    base = _SNAPSHOT.sub("", key)
    return PRICES.get(base) if base != key else None


def cost_of(price: Price | None, input_tokens: int | None, output_tokens: int | None) -> float | None:
    """USD for one call, or None without a price or token counts."""
    if price is None or input_tokens is None or output_tokens is None:
        return None
    return (input_tokens * price.input_per_m + output_tokens * price.output_per_m) / 1_000_000


class BudgetExceeded(WebjudgeError):
    """Raised before an uncached call once a run's `--max-cost` is used up."""


class CostMeter:
    """Per-run spending. `max_cost=None` means no budget.

    `check()` runs before each uncached call: it raises once `spent_usd >= max_cost`.
    The call that crosses the limit is allowed to finish (its cost is unknown until it
    returns), so a run can overshoot by at most one call per concurrent worker.
    """

    def __init__(self, max_cost: float | None = None):
        if max_cost is not None and max_cost < 0:
            raise ValueError("max_cost must be >= 0")
        self.max_cost = max_cost
        self.spent_usd = 0.0
        self.saved_usd = 0.0
        self.calls = 0
        self.cached_calls = 0
        self.unpriced_calls = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self._lock = threading.Lock()
        self._warned: set[str] = set()

    @property
    def remaining_usd(self) -> float | None:
        return None if self.max_cost is None else max(0.0, self.max_cost - self.spent_usd)

    def check(self, model: str = "") -> None:
        """Raise `BudgetExceeded` when no budget is left for a new call."""
        with self._lock:
            if self.max_cost is not None and self.spent_usd >= self.max_cost:
                raise BudgetExceeded(f"budget of ${self.max_cost:.4f} used up (spent ${self.spent_usd:.4f} "
                                     f"over {self.calls} calls); not calling {model or 'the model'}")

    def add(self, cost_usd: float | None, input_tokens: int | None = None,
            output_tokens: int | None = None, model: str = "") -> None:
        """Record an uncached call."""
        with self._lock:
            self.calls += 1
            self.input_tokens += input_tokens or 0
            self.output_tokens += output_tokens or 0
            if cost_usd is None:
                self.unpriced_calls += 1
                if self.max_cost is not None and model not in self._warned:
                    self._warned.add(model)
                    log.warning("no price known for %s: its calls are not counted against --max-cost", model)
            else:
                self.spent_usd += cost_usd

    def add_saved(self, cost_usd: float | None) -> None:
        """Record a cache hit that would have cost `cost_usd`."""
        with self._lock:
            self.cached_calls += 1
            self.saved_usd += cost_usd or 0.0

    def summary(self) -> dict:
        return {"spent_usd": round(self.spent_usd, 6), "saved_usd": round(self.saved_usd, 6),
                "max_cost_usd": self.max_cost, "calls": self.calls, "cached_calls": self.cached_calls,
                "unpriced_calls": self.unpriced_calls, "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens, "prices_as_of": PRICES_AS_OF}
