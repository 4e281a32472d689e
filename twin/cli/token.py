"""`twin token`: make access tokens for `twin serve`."""
from __future__ import annotations

from twin.scaleout.cluster import open_store
from twin.serve.access import ALL_TWINS, Role, new_token
from twin.serve.run import DEFAULT_DB

COMMAND = "token"
HELP = "create access tokens for twin serve (viewer, artisan, planner, admin)"
DESCRIPTION = """Create a token that gives one role on one twin (or on every twin with --twin '*').

The token is printed once; the server keeps only its hash. Roles: viewer (read), artisan
(+ instruction progress, machine notes and state, the procedures and anchors of their
machines), planner (+ layouts, every anchor and procedure, tours, machine poses, the document's
history and restore), admin (everything).

An artisan token may be limited to some machines with --machine (once per machine id); without
it, the artisan writes the instructions of every machine of the twin.

examples:
  twin token create --twin sample_workshop --role planner --name maria
  twin token create --twin sample_workshop --role artisan --name luca --machine lathe-1 --machine mill-1
"""


def add_arguments(parser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", aliases=["add"], help="make a new token and print it once")
    create.add_argument("--twin", required=True, help="the twin (scan folder name) it is for, or '*' for all")
    create.add_argument("--role", required=True, choices=[r.label for r in Role if r is not Role.VISITOR])
    create.add_argument("--name", help="who holds it (shown to others as the author of edits; default: the role)")
    create.add_argument("--machine", action="append", default=[], metavar="ID", dest="machines",
                        help="artisans only: a machine id whose instructions the token may edit (repeat for more; "
                             "default: every machine of the twin)")
    create.add_argument("--db", default=str(DEFAULT_DB), metavar="FILE_OR_URL",
                        help=f"the server's SQLite file (default {DEFAULT_DB}) or PostgreSQL URL")
    revoke = actions.add_parser("revoke", help="stop every token held by NAME from working")
    revoke.add_argument("--name", required=True, help="the holder's name, as given at create")
    revoke.add_argument("--db", default=str(DEFAULT_DB), metavar="FILE_OR_URL",
                        help=f"the server's SQLite file (default {DEFAULT_DB}) or PostgreSQL URL")
    listing = actions.add_parser("list", help="list who holds tokens (the tokens themselves are not stored)")
    listing.add_argument("--db", default=str(DEFAULT_DB), metavar="FILE_OR_URL",
                        help=f"the server's SQLite file (default {DEFAULT_DB}) or PostgreSQL URL")


def run(args) -> int:
    store = open_store(args.db, durability="full")
    try:
        if args.action == "list":
            for name, role, twin, machines in store.token_names():
                scope = f"\tmachines {','.join(machines)}" if machines else ""
                print(f"{name}\t{role}\t{'every twin' if twin == ALL_TWINS else twin}{scope}")
            return 0
        if args.action == "revoke":
            removed = store.remove_tokens(args.name)
            if removed == 0:
                raise ValueError(f"no token is held by {args.name!r}; `twin token list` shows who holds tokens")
            print(f"revoked {removed} token(s) of {args.name} (connections already open keep their rights until they reconnect)")
            return 0
        machines = tuple(dict.fromkeys(args.machines))
        _check_machines(store, args.twin, machines)
        token = new_token()
        store.add_token(token, args.name or args.role, Role.parse(args.role), args.twin, machines)
    finally:
        store.close()
    print(token)
    return 0


def _check_machines(store, twin: str, machines: tuple[str, ...]) -> None:
    """Machine ids that the twin's stored document lacks are a typo; a twin never served yet is not checked."""
    if not machines or twin == ALL_TWINS:
        return
    try:
        _, document = store.head(twin)
    except KeyError:
        return
    known = [machine.get("id") for machine in document.get("machines", [])]
    unknown = [machine for machine in machines if machine not in known]
    if unknown:
        raise ValueError(f"twin {twin!r} has no machine {', '.join(map(repr, unknown))}; its machines are "
                         f"{', '.join(known) or 'none yet'}")
