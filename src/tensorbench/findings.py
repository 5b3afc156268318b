"""What an experiment finds, as data: the claim, the value here, the published value and
the verdict, with the sentence a reader sees written from them."""

from __future__ import annotations

from dataclasses import asdict, dataclass

HELD, NOT_HELD, NOT_COMPARABLE = "held", "did not hold", "not comparable"


@dataclass(frozen=True)
class Finding:
    """One finding of one run. ``claim`` and ``verdict`` are set for checked claims (the
    README's headline table); descriptive findings carry only ``text``."""

    experiment: str
    text: str  # the sentence, written from the numbers below
    claim: str = ""  # what is claimed, e.g. "Rust from Python > 100x the Python loop"
    value: str = ""  # ours, formatted, e.g. "129.3x"
    published: str = ""  # the paper's or the note's value, formatted
    verdict: str = ""  # HELD, NOT_HELD, NOT_COMPARABLE, or "" for a description

    def as_dict(self) -> dict:
        return asdict(self)


def described(experiment: str, lines) -> list[Finding]:
    """Findings that are sentences only."""
    return [Finding(experiment, line) for line in lines]


def verdict(held: bool | None) -> str:
    if held is None:
        return NOT_COMPARABLE
    return HELD if held else NOT_HELD


def as_markdown(items) -> str:
    """A Markdown bullet list of findings (or of plain sentences)."""
    return "\n".join(f"- {item.text if isinstance(item, Finding) else item}" for item in items)
