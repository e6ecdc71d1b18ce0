"""What a secret looks like: key shapes, secret-like field names, the placeholders.

Kept apart from the scrubber (``pyagent_trace.scrub``) so that the knowledge of "what is a
secret" is in one place: the scrubber, ``pyagent-trace audit`` and the CLI's printing all
read it from here. Everything is compiled once, at import.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import functools

__all__ = [
    "HINTS",
    "KEY_PATTERN",
    "REDACTED",
    "SHAPES",
    "is_placeholder",
    "is_secret_name",
    "placeholder",
]

REDACTED = "<redacted>"
"""A value removed by name (a header, a query parameter, a JSON field): the name says what."""


def placeholder(kind: str) -> str:
    """``<redacted:openai-key>``: a value removed by shape or by value. It names the kind
    (or where the value was learnt), never the secret or anything derived from it, so the
    same secret always gives the same text and re-records stay byte-identical."""
    return f"<redacted:{kind}>"


def is_placeholder(value: str) -> bool:
    return value.startswith("<redacted") and value.endswith(">")


# -- by shape -------------------------------------------------------------------------------
# Each needs a digit (random keys have one, prose rarely does) and must not start inside a
# word ("task-force" is not "sk-…"). Order matters: the first alternative that matches wins.
_D = r"(?=[\w\-.~+/]*\d)"
SHAPES: tuple[tuple[str, str], ...] = (
    ("private_key", r"-----BEGIN[A-Z ]{0,30} PRIVATE KEY-----[\s\S]{0,8000}?-----END[A-Z ]{0,30} PRIVATE KEY-----"),
    ("anthropic_key", rf"(?<![\w-])sk-ant-{_D}[\w\-]{{16,}}"),
    ("openai_key", rf"(?<![\w-])sk-{_D}[\w\-]{{20,}}"),
    ("google_api_key", rf"(?<![\w-])AIza{_D}[\w\-]{{30,}}"),
    ("aws_access_key", r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
    ("github_token", r"(?<![\w-])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{30,})"),
    ("slack_token", rf"(?<![\w-])xox[abposr]-{_D}[\w\-]{{10,}}"),
    ("slack_webhook", r"hooks\.slack\.com/services/[\w/]{20,}"),
    ("jwt", r"(?<![\w-])eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}"),
)
_BEARER = rf"(?P<bearer_prefix>(?<![\w-])(?i:bearer)\s+)(?P<bearer_token>{_D}[\w\-.~+/]{{8,}}=*)"
KEY_PATTERN = "|".join([*(f"(?P<{name}>{regex})" for name, regex in SHAPES), _BEARER])
"""One alternation of every key shape; a bearer token keeps its ``Bearer `` prefix."""

HINTS: tuple[str, ...] = (
    "sk-", "AIza", "AKIA", "ASIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox",
    "hooks.slack", "eyJ", "PRIVATE KEY", "earer", "EARER",
)  # fmt: skip
"""Substrings one of which every key shape contains: ``in`` tests are far cheaper than a
regex search, so text without any of them is never searched."""


# -- by name --------------------------------------------------------------------------------
_SECRET_NAMES = frozenset(
    {
        "apikey", "xapikey", "password", "passwd", "passphrase", "secret", "clientsecret", "secretkey",
        "privatekey", "accesskey", "secretaccesskey", "accesskeyid", "token", "authorization",
        "proxyauthorization", "cookie", "setcookie", "credential", "credentials", "sessionkey",
    }
)  # fmt: skip
_SECRET_SUFFIXES = ("token", "apikey", "secret", "password", "secretkey", "privatekey", "accesskey")
_NOT_SECRETS = frozenset(
    {"eostoken", "bostoken", "padtoken", "unktoken", "septoken", "clstoken", "masktoken", "stoptoken"}
)
"""Tokenizer settings (``eos_token: "</s>"``): content, though named like a token."""


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a header, query parameter or JSON field of this name holds a secret:
    ``api_key``, ``apiKey``, ``x-api-key``, ``password``, ``token``, ``access_token``,
    ``refreshToken``, ``client_secret``… but not ``max_tokens`` or ``input_tokens`` (counts
    end in ``tokens``). Case, ``-``, ``_`` and ``.`` are ignored."""
    key = name.lower().replace("-", "").replace("_", "").replace(".", "")
    if key in _SECRET_NAMES:
        return True
    return key.endswith(_SECRET_SUFFIXES) and key not in _NOT_SECRETS
