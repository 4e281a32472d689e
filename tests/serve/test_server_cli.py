"""`twin serve` and `twin token` from the command line: clear errors, tokens printed once."""
from __future__ import annotations

from twin.cli import main
from twin.serve.access import Role
from twin.serve.sqlite_store import SqliteStore


def test_token_create_prints_a_token_the_store_knows_by_hash_only(tmp_path, capsys):
    db = tmp_path / "twin.db"
    assert main(["token", "create", "--twin", "shop", "--role", "planner", "--name", "maria", "--db", str(db)]) == 0
    token = capsys.readouterr().out.strip()
    store = SqliteStore(db)
    grant = store.grant(token)
    assert (grant.name, grant.role, grant.twin) == ("maria", Role.PLANNER, "shop")
    store.close()
    assert token.encode() not in db.read_bytes()
    assert main(["token", "list", "--db", str(db)]) == 0
    assert capsys.readouterr().out == "maria\tplanner\tshop\n"
    assert main(["token", "revoke", "--name", "maria", "--db", str(db)]) == 0
    assert "revoked 1 token" in capsys.readouterr().out
    store = SqliteStore(db)
    assert store.grant(token) is None
    store.close()
    assert main(["token", "revoke", "--name", "maria", "--db", str(db)]) == 2
    assert "no token is held by 'maria'" in capsys.readouterr().err


def test_an_artisan_token_limited_to_machines_is_listed_with_them_and_checked_against_the_twin(tmp_path, capsys):
    db = tmp_path / "twin.db"
    store = SqliteStore(db)
    store.import_twin("shop", {"name": "shop", "machines": [{"id": "lathe-1"}, {"id": "mill-1"}]})
    store.close()
    made = ["token", "add", "--twin", "shop", "--role", "artisan", "--name", "luca", "--db", str(db)]
    assert main([*made, "--machine", "lathe-1", "--machine", "mill-1", "--machine", "lathe-1"]) == 0
    token = capsys.readouterr().out.strip()
    store = SqliteStore(db)
    assert store.grant(token).machines == ("lathe-1", "mill-1")
    store.close()
    assert main(["token", "list", "--db", str(db)]) == 0
    assert capsys.readouterr().out == "luca\tartisan\tshop\tmachines lathe-1,mill-1\n"
    assert main([*made, "--machine", "lathe-2"]) == 2
    assert "twin 'shop' has no machine 'lathe-2'; its machines are lathe-1, mill-1" in capsys.readouterr().err
    assert main([*made[:5], "planner", *made[6:], "--machine", "lathe-1"]) == 2
    assert "only artisan tokens are limited to machines" in capsys.readouterr().err


def test_serve_refuses_bad_folders_and_publishing_unknown_twins(tmp_path, capsys, write_twin_folder):
    db = str(tmp_path / "twin.db")
    assert main(["serve", str(tmp_path / "missing"), "--db", db]) == 2
    assert "is not a folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["serve", str(tmp_path / "empty"), "--db", db]) == 2
    assert "twin export" in capsys.readouterr().err
    folder = write_twin_folder(tmp_path / "shop")
    assert main(["serve", str(folder), "--db", db, "--publish", "other"]) == 2
    assert "cannot publish other" in capsys.readouterr().err
    assert main(["serve", str(folder), "--db", db, "--port", "70000"]) == 2
    (folder / "twin.json").write_text('{"version": 1}')
    assert main(["serve", str(folder), "--db", db]) == 2
    assert "name" in capsys.readouterr().err
