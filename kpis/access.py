"""Who may see what: each signed-in person's role and segment scope, from the access file (access.toml).

    [settings]
    groups_claim = "groups"          # the identity token's claim listing a person's groups (optional)
    [users]
    "ceo@acme.example" = "board"
    "fr.manager@acme.example" = { role = "analyst", region = ["FR"] }
    [groups]
    "bi-team" = "analyst"

Deny by default: a person neither listed nor in a listed group has no access. A person's own line wins over their
groups; among several groups, the most trusted role (board, then analyst, then partner), the first listed on a tie.
A scope limits every number to those segment values: names and values are checked against the database, so a typo
stops the dashboard with the file's line rather than opening a wider view.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from i18n import _
from kpis.database import Database
from kpis.decisions import parse_segment
from store.files import db_path

ROLES = ("board", "analyst", "partner")  # most trusted first
# What each role may do beyond reading its pages (the dashboard's pages per role: dashboard/navigation.py).
MAY = {
    "board": {"board_pdf", "partner_pdf", "comments", "audit"},
    "analyst": {"board_pdf", "partner_pdf", "comments", "csv", "edit"},
    "partner": {"partner_pdf"},
}
MAY["open"] = set().union(*MAY.values())  # no sign-in configured: the dashboard is open to all, as on a laptop
_QUOTED_KEY = r'^\s*(?:"{key}"|\'{key}\'|{key})\s*='


class AccessError(ValueError):
    """The access file cannot be used: the message names the file, the line and why."""


@dataclass(frozen=True)
class Grant:
    """What one person may see and do."""

    role: str
    scope: dict[str, tuple[str, ...]] = field(default_factory=dict)  # {} : every customer
    source: str = ""  # the access file's line that grants it ("users: ceo@acme.example", "groups: bi-team")

    def may(self, action: str) -> bool:
        return action in MAY[self.role]

    @property
    def partner(self) -> bool:
        return self.role == "partner"

    @property
    def scoped(self) -> bool:
        return bool(self.scope)


@dataclass(frozen=True)
class Access:
    users: dict[str, Grant]
    groups: dict[str, Grant]
    groups_claim: str = "groups"

    def grant_for(self, email: str | None, claims: dict | None = None) -> Grant | None:
        """The person's grant: their own line, else their groups' most trusted one; None: no access."""
        if email and email.strip().lower() in self.users:
            return self.users[email.strip().lower()]
        member = (claims or {}).get(self.groups_claim) or []
        member = [member] if isinstance(member, str) else list(member)
        found = [self.groups[g] for g in self.groups if g in member]
        return min(found, key=lambda g: ROLES.index(g.role)) if found else None


OPEN_GRANT = Grant("open", {}, "no sign-in configured")


def access_path(database=None) -> Path:
    """$EMPTYCHAIR_ACCESS, else access.toml beside the database."""
    if os.environ.get("EMPTYCHAIR_ACCESS"):
        return Path(os.environ["EMPTYCHAIR_ACCESS"]).absolute()
    return db_path(database).with_name("access.toml")


def _line(text: str, section: str, key: str) -> int:
    """The line of `key` in `[section]` (1-based; 0 when not found)."""
    current = ""
    pattern = re.compile(_QUOTED_KEY.format(key=re.escape(key)))
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[([^\]]+)\]", line)
        if header:
            current = header.group(1).strip()
        elif current == section and pattern.match(line):
            return number
    return 0


def _grant(value, section: str, key: str, db: Database, where) -> Grant:
    if isinstance(value, str):
        value = {"role": value}
    if not isinstance(value, dict):
        raise AccessError(_("{where}: give a role (\"analyst\") or a table ({{ role = \"analyst\", region = "
                            "[\"FR\"] }})").format(where=where(section, key)))
    role = value.get("role")
    if role not in ROLES:
        raise AccessError(_("{where}: unknown role {role}: use one of {roles}").format(
            where=where(section, key), role=repr(role), roles=", ".join(ROLES)))
    scope = {}
    for name, values in value.items():
        if name == "role":
            continue
        values = [values] if isinstance(values, str) else values
        if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
            raise AccessError(_("{where}: {name} must be a list of values, e.g. {name} = [\"FR\"]").format(
                where=where(section, key), name=name))
        try:
            checked = [parse_segment(f"{name}={v}", db).partition("=")[2] for v in values]
        except ValueError as error:
            raise AccessError(_("{where}: {problem}").format(where=where(section, key), problem=error)) from None
        scope[name] = tuple(dict.fromkeys(checked))
    return Grant(role, scope, f"{section}: {key}")


def parse_access(text: str, db: Database, name: str = "access.toml") -> Access:
    """The access file's rules, every role, segment name and value checked (AccessError naming the line)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise AccessError(_("{file}: not valid TOML: {error}").format(file=name, error=error)) from None

    def where(section: str, key: str) -> str:
        line = _line(text, section, key)
        return (_("{file} line {line}").format(file=name, line=line) if line
                else _("{file} [{section}] {key}").format(file=name, section=section, key=key))

    unknown = sorted(set(data) - {"settings", "users", "groups"})
    if unknown:
        raise AccessError(_("{file}: unknown section [{section}]: use [settings], [users] and [groups]").format(
            file=name, section=unknown[0]))
    settings = data.get("settings", {})
    if set(settings) - {"groups_claim"} or not isinstance(settings.get("groups_claim", ""), str):
        raise AccessError(_("{file}: [settings] takes groups_claim = \"groups\" only").format(file=name))
    users: dict[str, Grant] = {}
    for key, value in data.get("users", {}).items():
        email = key.strip().lower()
        if email in users:
            first = users[email].source.removeprefix("users: ")
            raise AccessError(_("{where}: {key} is listed twice (also as {first}, line {line})").format(
                where=where("users", key), key=key, first=first, line=_line(text, "users", first)))
        if "@" not in email:
            raise AccessError(_("{where}: {key} is not an e-mail address").format(where=where("users", key),
                                                                                 key=repr(key)))
        users[email] = _grant(value, "users", key, db, where)
    groups = {key: _grant(value, "groups", key, db, where) for key, value in data.get("groups", {}).items()}
    return Access(users, groups, settings.get("groups_claim", "groups"))


def load_access(path: Path, db: Database) -> Access:
    """The access file at `path`; AccessError when it is missing or wrong (the dashboard then lets nobody in)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise AccessError(_("{file}: {error}: sign-in is configured, so the dashboard needs an access file saying "
                            "who may see what").format(file=path, error=error.strerror or error)) from None
    return parse_access(text, db, path.name)
