"""What a secret looks like: key shapes, secret-like field names, the placeholders.

Kept apart from the scrubber (``pyagent_trace.scrub``) so that the knowledge of "what is a
secret" is in one place: the scrubber, ``pyagent-trace audit`` and the CLI's printing all
read it from here. Everything is compiled once, at import.
PYTEST_DONT_REWRITE: no assert here to rewrite (pytest rewrites our whole distribution).
"""

from __future__ import annotations

import functools
import re

__all__ = [
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
# word ("task-force" is not "sk-…"). Each regex starts with its literal prefix and checks
# the character before it with a lookbehind placed after the prefix: a regex that starts
# with a literal is searched for by ``re`` as fast as ``str.find``, one that starts with a
# lookbehind or an alternation is tried at every position (45 ms on a 70 kB base64 audio
# string, measured with bench/bench_scrub.py). Order matters: ``sk-ant-`` before ``sk-``.
_D = r"(?=[\w\-.~+/]*\d)"


def _after(prefix: str) -> str:
    """``prefix`` not preceded by a word character or ``-``."""
    return f"{prefix}(?<![\\w-]{prefix})"


SHAPES: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = tuple(
    (kind, hints, re.compile(regex))
    for kind, hints, regex in (
        ("private-key", ("PRIVATE KEY",),
         r"-----BEGIN[A-Z ]{0,30} PRIVATE KEY-----[\s\S]{0,8000}?-----END[A-Z ]{0,30} PRIVATE KEY-----"),
        ("anthropic-key", ("sk-",), rf"{_after('sk-ant-')}{_D}[\w\-]{{16,}}"),
        ("openai-key", ("sk-",), rf"{_after('sk-')}{_D}[\w\-]{{20,}}"),
        ("google-api-key", ("AIza",), rf"{_after('AIza')}{_D}[\w\-]{{30,}}"),
        ("aws-access-key", ("AKIA",), r"AKIA(?<![A-Za-z0-9]AKIA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
        ("aws-access-key", ("ASIA",), r"ASIA(?<![A-Za-z0-9]ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
        ("github-token", ("gh",), r"gh[pousr]_(?<![\w-]gh[pousr]_)[A-Za-z0-9]{30,}"),
        ("github-token", ("gh",), rf"{_after('github_pat_')}\w{{30,}}"),
        ("slack-token", ("xox",), rf"xox[abposr]-(?<![\w-]xox[abposr]-){_D}[\w\-]{{10,}}"),
        ("slack-webhook", ("hooks.slack",), r"hooks\.slack\.com/services/[\w/]{20,}"),
        ("jwt", ("eyJ",), rf"{_after('eyJ')}[\w-]{{8,}}\.eyJ[\w-]{{8,}}\.[\w-]{{8,}}"),
        ("bearer-token", ("earer", "EARER"),
         rf"[Bb](?<![\w-][Bb])[Ee][Aa][Rr][Ee][Rr]\s+(?P<token>{_D}[\w\-.~+/]{{8,}}=*)"),
    )
)  # fmt: skip
"""(kind, hints, regex): the regex runs only on text that contains one of its hints (``in``
is far cheaper than a search; short hints shared by several kinds keep the ``in`` tests
few). A bearer token keeps its ``Bearer `` prefix: only its ``token`` group is redacted."""


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
