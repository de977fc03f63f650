"""Sign-in and what the signed-in person may see (kpis.access): Streamlit's OpenID Connect sign-in (`st.login`) when
`[auth]` is configured in .streamlit/secrets.toml, else an open dashboard, as `make run` needs on a laptop.

`gate()` runs before the navigation: it draws the sign-in page, the "no access" page or the access file's error and
stops the run, or returns the person's grant, which the pages read through `grant()`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

from i18n import N_, _
from kpis.access import OPEN_GRANT, Access, AccessError, Grant, access_path, load_access
from kpis.labels import describe_filters
from store.settings import Settings, settings_path
from ui.db import configured_path, database

_GRANT = "access:grant"
# The roles of the access file (kpis.access), as the sidebar names them.
ROLES = {"board": N_("board"), "analyst": N_("analyst"), "partner": N_("partner")}


def signed_in() -> bool | None:
    """True or False when sign-in is configured (Streamlit then always says whether one is signed in), else None."""
    user = st.user.to_dict()
    return bool(user["is_logged_in"]) if "is_logged_in" in user else None


def who() -> str:
    """The person acting, for the audit log: their e-mail, else "open dashboard" (stored as written, in English: the
    log's rows are data)."""
    return str(st.user.to_dict().get("email") or "open dashboard") if signed_in() else "open dashboard"


@st.cache_resource(max_entries=4, show_spinner=False)
def _access(path: str, stamp: int | None, build: str) -> Access:
    """The access file at `path`, kept per version of it (`stamp`) and build (whose segment values it checks)."""
    return load_access(Path(path), database())


def _rules() -> Access:
    """The access file, read again when it changes (or when a new build brings new segment values)."""
    path = access_path(configured_path())
    stamp = path.stat().st_mtime_ns if path.exists() else None
    return _access(str(path), stamp, database().name)


def _sign_out_button(where) -> None:
    where.button(_("Sign out"), key="auth:logout", on_click=st.logout, icon=":material/logout:")


def gate() -> Grant:
    """The signed-in person's grant, or a page saying why there is none (the run stops there)."""
    state = signed_in()
    if state is None:
        st.session_state[_GRANT] = OPEN_GRANT
        return OPEN_GRANT
    if not state:
        st.title(_("Sign in"))
        st.write(_("The Empty Chair dashboard is for the people the company has given access to."))
        st.button(_("Sign in"), key="auth:login", on_click=st.login, type="primary", icon=":material/login:")
        st.stop()
    try:
        rules = _rules()
    except AccessError as error:
        print(f"Empty Chair: {error}", file=sys.stderr)
        st.title(_("The access file cannot be used"))
        st.error(str(error))
        st.caption(_("Nobody can see the dashboard until it is corrected."))
        _sign_out_button(st)
        st.stop()
    user = st.user.to_dict()
    found = rules.grant_for(user.get("email"), user)
    if found is None:
        st.title(_("No access"))
        st.write(_("You are signed in as {account}, which has no access to this dashboard. Ask its administrator to "
                   "add you.").format(account=user.get("email") or _("an account without an e-mail address")))
        _sign_out_button(st)
        st.stop()
    st.session_state[_GRANT] = found
    return found


def grant() -> Grant:
    """The grant of the person this run is for (set by `gate`)."""
    return st.session_state.get(_GRANT, OPEN_GRANT)


def sidebar(found: Grant) -> None:
    """Who is signed in and as what, with sign-out; or that the dashboard is open."""
    side = st.sidebar
    if found.role == OPEN_GRANT.role:
        side.caption(_(":material/lock_open: Open: no sign-in configured. Set `[auth]` in .streamlit/secrets.toml "
                       "to require one (README, \"Sign-in and roles\")."))
        return
    role = _(ROLES[found.role]) if found.role in ROLES else found.role
    if found.scope:
        side.caption(_("Signed in as **{who}** · {role} · limited to {scope}").format(
            who=who(), role=role, scope=describe_filters(dict(found.scope))))
    else:
        side.caption(_("Signed in as **{who}** · {role}").format(who=who(), role=role))
    _sign_out_button(side)


def record(action: str, detail: str, view: str = "") -> None:
    """An export into the audit log (a download button's on_click)."""
    Settings(settings_path(configured_path())).log(who(), action, detail, view)
