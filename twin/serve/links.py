"""Links into the served viewer: a twin, a machine's instructions, a tour at a stop.

These are the deep links viewer-web/src/app/main.js reads: `?twin=NAME`, then
`&mode=instructions&machine=ID` or `&mode=tour&tour=ID&stop=INDEX` (from 0), optionally
`&lang=xx`; a token goes into the fragment (`#token=...`), which the browser never sends to the
server nor to other sites in a Referer, so it stays out of access logs.
"""
from __future__ import annotations

import ipaddress
import urllib.parse
from dataclasses import dataclass


@dataclass(frozen=True)
class Link:
    """A labelled link, as a printed sheet shows it."""

    title: str  # the machine's name or the stop's title
    caption: str  # what it opens: "instructions", "Workshop tour - stop 2 of 6"
    url: str


def base_url(scheme: str, host: str, port: int) -> str:
    """`scheme://host:port/`, an IPv6 address in brackets."""
    try:
        bracketed = isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address)
    except ValueError:
        bracketed = False
    return f"{scheme}://{f'[{host}]' if bracketed else host}:{port}/"


def check_base_url(url: str) -> str:
    """`url` as the base of links (`https://HOST:PORT`, a trailing slash added), or a ValueError."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"{url!r} is not a server's address: give it as https://HOST:PORT "
                         "(what `twin serve --lan` prints after 'open')")
    try:
        parts.port
    except ValueError:
        raise ValueError(f"{url!r}: the port is not a number from 0 to 65535") from None
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/", "", ""))


def viewer_url(base: str, twin: str, token: str | None = None, **query: str | int) -> str:
    """The viewer at `base` opened on `twin` (and `query`: mode, machine, tour, stop, lang)."""
    parameters = urllib.parse.urlencode({"twin": twin, **query})
    return f"{base}?{parameters}" + (f"#token={urllib.parse.quote(token, safe='')}" if token else "")


def machine_links(document: dict, base: str, twin: str, **query: str) -> list[Link]:
    """One link per machine of `document`, to its instructions."""
    return [Link(machine.get("name") or machine["id"], f"instructions - {machine['id']}",
                 viewer_url(base, twin, mode="instructions", machine=machine["id"], **query))
            for machine in document.get("machines", [])]


def stop_links(document: dict, base: str, twin: str, tour_id: str, label_lang: str, **query: str) -> list[Link]:
    """One link per stop of the tour `tour_id`, numbered from 1 on the label (the URL counts from 0)."""
    tours = {tour["id"]: tour for tour in document.get("tours", [])}
    if tour_id not in tours:
        known = ", ".join(sorted(tours)) or "none"
        raise ValueError(f"twin {twin!r} has no tour {tour_id!r} (its tours: {known})")
    tour = tours[tour_id]
    stops = tour.get("stops", [])
    if not stops:
        raise ValueError(f"tour {tour_id!r} of twin {twin!r} has no stops yet: add some in the tour editor")
    tour_title = _text(tour.get("title"), label_lang) or tour_id
    return [Link(_text(stop.get("title"), label_lang) or stop["id"], f"{tour_title} - stop {index + 1} of {len(stops)}",
                 viewer_url(base, twin, mode="tour", tour=tour_id, stop=index, **query))
            for index, stop in enumerate(stops)]


def _text(texts: dict | None, lang: str) -> str:
    """A document text in `lang`, else in the first language it has (a missing translation)."""
    texts = texts or {}
    return texts.get(lang) or next((text for text in texts.values() if text), "")
