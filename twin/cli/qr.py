"""`twin qr`: printable QR codes that open the viewer at a machine's instructions or a tour's stop."""
from __future__ import annotations

import argparse
from pathlib import Path

from twin.cli.errors import CliError

COMMAND = "qr"
HELP = "print QR codes to stick next to machines and tour stops (each opens the viewer there)"
DESCRIPTION = """\
Write an A4 sheet of QR codes, 12 to a page, each with the machine's name or the stop's title
and number: one per machine (its instructions) and one per stop of the tours asked for. Stick
each next to its machine or stop; a phone's camera opens the viewer right there.

The codes open the server at --url, by default the address `twin serve --lan` uses on this
machine (https://LAN-ADDRESS:8765). They carry no token, so they open published twins
(`twin serve --publish NAME`) and public tours for anyone; a private twin's viewer asks for a token.
The document is the one `twin serve` keeps in --db (with the tours and procedures written in
the browser), else the scan folder's twin.json.

With neither --machines nor --tour: every machine and every tour's stops.

examples:
  twin qr scans/sample_workshop -o codes.pdf
  twin qr scans/sample_workshop --tour workshop-tour -o stops.pdf
  twin qr scans/sample_workshop --machines --url https://192.168.1.20:8765 -o machines.svg
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from twin.serve.run import DEFAULT_DB

    parser.add_argument("scan", type=Path, help="the scan folder of the twin, e.g. scans/NAME")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                        help="FILE.pdf (every page) or FILE.svg (one file per page: FILE.svg, FILE-2.svg, ...)")
    parser.add_argument("--machines", action="store_true", help="a code per machine, opening its instructions")
    parser.add_argument("--tour", action="append", default=[], metavar="ID",
                        help="a code per stop of this tour (repeatable)")
    parser.add_argument("--url", metavar="https://HOST:PORT",
                        help="the server the codes open (default: this machine's LAN address, as twin serve --lan)")
    parser.add_argument("--lang", metavar="LANG",
                        help="the language of the labels, also put into the links (default: the document's first; "
                             "the viewer then follows each phone's language)")
    parser.add_argument("--db", default=str(DEFAULT_DB), metavar="FILE_OR_URL",
                        help=f"where twin serve keeps the edits (default {DEFAULT_DB}); read only")


def run(args: argparse.Namespace) -> int:
    from twin.qr import LabelledCode, write_qr_sheet
    from twin.serve.links import check_base_url, machine_links, stop_links

    if not args.output.parent.is_dir():
        raise CliError(f"{args.output.parent}: no such folder")
    twin = args.scan.resolve().name
    document = _current_document(args.scan, twin, args.db)
    base = check_base_url(args.url) if args.url else _lan_base_url()
    lang = args.lang or (document.get("languages") or ["en"])[0]
    query = {"lang": args.lang} if args.lang else {}
    every_tour = [tour["id"] for tour in document.get("tours", []) if tour.get("stops")]
    tours = args.tour or ([] if args.machines else every_tour)
    links = machine_links(document, base, twin, **query) if args.machines or not args.tour else []
    for tour in tours:
        links += stop_links(document, base, twin, tour, lang, **query)
    written = write_qr_sheet([LabelledCode(link.title, link.caption, link.url) for link in links], args.output,
                             footer=f"{document.get('name') or twin} - scan to open it in the viewer at {base}")
    print(f"wrote {len(links)} QR code(s) to {', '.join(map(str, written))}, opening {base}")
    private = [tour["id"] for tour in document.get("tours", []) if tour["id"] in tours and not tour.get("public")]
    if private:
        print(f"note: tour(s) {', '.join(private)} are not public: visitors who scan their codes will not see them")
    return 0


def _current_document(scan: Path, twin: str, db: str) -> dict:
    """The twin's document as twin serve keeps it (edits made in the browser included), else twin.json."""
    from twin.scaleout.cluster import open_store
    from twin.scaleout.urls import is_postgres_url, sqlite_path
    from twin.serve.server import read_twin_folder

    if is_postgres_url(db) or sqlite_path(db).is_file():
        store = open_store(db, durability="full")
        try:
            if twin in store.twin_names():
                return store.head(twin)[1]
        finally:
            store.close()
    return read_twin_folder(scan)


def _lan_base_url() -> str:
    from twin.serve.links import base_url
    from twin.serve.run import DEFAULT_PORT, lan_address

    address = lan_address()
    if address is None:
        raise CliError("could not find this machine's address on a local network; give the server's with "
                       "--url https://HOST:PORT")
    return base_url("https", address, DEFAULT_PORT)
