"""`twin qr` and the QR codes behind it, read back the way a phone does: OpenCV's detector on
the printed sheet (the PDF rasterised by poppler) and on the terminal's half blocks."""
from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ElementTree

import cv2
import pytest
from plan_scan import sample_surface_points, write_plan_scan
from qr_images import decode, terminal_picture

from twin.cli import main
from twin.qr import qr_modules, terminal_qr
from twin.serve.links import check_base_url, machine_links, stop_links
from twin.serve.server import read_twin_folder

BASE = "https://192.168.1.20:8765"


@pytest.fixture(scope="module")
def sample_scan(tmp_path_factory):
    return write_plan_scan(tmp_path_factory.mktemp("scans") / "sample_workshop", sample_surface_points())


def test_terminal_codes_read_back_as_the_link():
    link = f"{BASE}/?twin=sample_workshop#token=1QuEWaokPf-stk7ieOXukzhoKrLRrkZnRq7V9TNr6TE"
    coloured = terminal_qr(link)
    assert "\x1b[" in coloured
    assert decode(terminal_picture(coloured)) == link
    plain = terminal_qr(link, colours=False)
    assert "\x1b" not in plain
    assert decode(terminal_picture(plain)) == link


def test_codes_refuse_what_no_phone_could_open():
    with pytest.raises(ValueError, match="needs some text"):
        qr_modules("")
    with pytest.raises(ValueError, match="too many for one QR code"):
        qr_modules("https://x/" + "a" * 3000)


def _printed_links(pdf, tmp_path) -> set[str]:
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(tmp_path / "page")], check=True)
    found = set()
    for page in sorted(tmp_path.glob("page*.png")):
        ok, texts, _, _ = cv2.QRCodeDetector().detectAndDecodeMulti(cv2.imread(str(page), cv2.IMREAD_GRAYSCALE))
        assert ok, f"no QR code read on {page.name}"
        found |= {text for text in texts if text}
    return found


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (Debian's poppler-utils) is not installed")
def test_printed_sheet_holds_a_readable_code_per_machine_and_tour_stop(sample_scan, tmp_path, capsys):
    document = read_twin_folder(sample_scan)
    pdf = tmp_path / "codes.pdf"
    assert main(["qr", str(sample_scan), "-o", str(pdf), "--url", BASE, "--db", str(tmp_path / "none.db")]) == 0
    base = check_base_url(BASE)
    expected = {link.url for link in machine_links(document, base, "sample_workshop")}
    for tour in document["tours"]:
        expected |= {link.url for link in stop_links(document, base, "sample_workshop", tour["id"], "en")}
    assert len(expected) > len(document["machines"])
    assert _printed_links(pdf, tmp_path) == expected
    assert f"wrote {len(expected)} QR code(s)" in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (Debian's poppler-utils) is not installed")
def test_one_tour_in_a_language_and_svg_pages(sample_scan, tmp_path, capsys):
    document = read_twin_folder(sample_scan)
    tour = document["tours"][0]
    pdf = tmp_path / "stops.pdf"
    assert main(["qr", str(sample_scan), "--tour", tour["id"], "--lang", "it", "-o", str(pdf), "--url", BASE,
                 "--db", str(tmp_path / "none.db")]) == 0
    links = _printed_links(pdf, tmp_path)
    assert len(links) == len(tour["stops"])
    assert all(f"tour={tour['id']}" in link and "lang=it" in link for link in links)
    assert {int(link.split("stop=")[1].split("&")[0]) for link in links} == set(range(len(tour["stops"])))

    svg = tmp_path / "machines.svg"
    assert main(["qr", str(sample_scan), "--machines", "-o", str(svg), "--url", BASE,
                 "--db", str(tmp_path / "none.db")]) == 0
    page = ElementTree.parse(svg).getroot()
    labels = " ".join(text.text or "" for text in page.iter("{http://www.w3.org/2000/svg}text"))
    assert all(machine["name"] in labels for machine in document["machines"])
    assert not any(element.tag.endswith("script") for element in page.iter())


def test_qr_errors_name_what_to_fix(sample_scan, tmp_path, capsys):
    assert main(["qr", str(sample_scan), "--tour", "nope", "-o", str(tmp_path / "x.pdf"), "--url", BASE,
                 "--db", str(tmp_path / "none.db")]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["qr", str(sample_scan), "-o", str(tmp_path / "missing" / "x.pdf"), "--url", BASE]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert main(["qr", str(sample_scan), "-o", str(tmp_path / "x.pdf"), "--url", "ftp://host"]) == 2
    assert "ftp://host" in capsys.readouterr().err
