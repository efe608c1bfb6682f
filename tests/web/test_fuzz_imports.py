"""The CSV/XLSX importers on hostile files, oversize uploads, wrong types, and formula payloads in exports."""

from __future__ import annotations

import base64
import csv
import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from app.models import Role
from app.services import schools, tabular
from app.services.errors import ValidationError
from tests import fuzzcount

# Three importer targets share 30% of the fuzz budget (test_fuzz_forms.py has the rest).
PER_TARGET = fuzzcount.budget(3, share=0.30)
FUZZ = settings(max_examples=PER_TARGET, deadline=None, database=None, suppress_health_check=list(HealthCheck))

GIAS_HEADER = ["URN", "EstablishmentName", "PhaseOfEducation (name)", "TypeOfEstablishment (name)",
               "NumberOfPupils", "Postcode", "LA (name)", "Easting", "Northing", "Latitude", "Longitude"]
cell = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["990101", "99010", "Primary", "Secondary", "Special", "=1+1", "+1", "-1", "@A1", "\t=1",
                     "\r=1", "1e400", "NaN", "-1", "1,234", "LA1 1AA", "XX99 9XX", "", "\x00", "\r\n", "\"", ","]),
    st.integers(-10**12, 10**12).map(str),
    st.floats().map(str),
)
names = st.sampled_from(["gias.csv", "gias.xlsx", "gias.CSV", "gias.txt", "gias", "", "gias.csv.xlsx", "x.xls"])


def _check(filename: str, raw: bytes, target: str, app) -> None:
    """The only outcomes allowed: a Preview, or a ValidationError with a message for the user."""
    fuzzcount.cases[target] += 1
    with app.app_context():
        try:
            result = schools.preview_gias(filename, raw)
        except ValidationError as exc:
            assert str(exc) and exc.field == "file"
            return
    assert isinstance(result, tabular.Preview)
    for error in result.errors:
        assert error.row >= 1 and error.message


@FUZZ
@given(raw=st.one_of(st.binary(max_size=4000), st.sampled_from([b"", b"\xef\xbb\xbf", b"PK\x03\x04", b"\x00" * 10,
                                                                b"URN\n", b"\xff" * 100])), filename=names)
def test_random_bytes(app, raw, filename):
    _check(filename, raw, "import random bytes", app)


@FUZZ
@given(header=st.lists(st.sampled_from(GIAS_HEADER) | st.text(max_size=20), max_size=12),
       rows=st.lists(st.lists(cell, max_size=13), max_size=8),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
       newline=st.sampled_from(["\n", "\r\n", "\r"]))
def test_csv_shaped_files(app, header, rows, encoding, newline):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    raw = buffer.getvalue().encode(encoding, errors="replace")
    _check("gias.csv", raw, "import csv-shaped", app)


def _workbook(header, rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in [header, *rows]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


xlsx_cell = st.one_of(cell.map(lambda t: "".join(ch for ch in t if ch >= " " or ch in "\t\n\r")),
                      st.integers(-10**15, 10**15), st.floats(allow_nan=False, allow_infinity=False),
                      st.dates(), st.none(), st.booleans())


@FUZZ
@given(header=st.lists(st.sampled_from(GIAS_HEADER) | st.none(), max_size=12),
       rows=st.lists(st.lists(xlsx_cell, max_size=12), max_size=6),
       damage=st.sampled_from(["none", "truncate", "flip", "drop-sheet", "garbage-sheet"]),
       where=st.integers(0, 10**6))
def test_xlsx_workbooks_whole_and_broken(app, header, rows, damage, where):
    try:
        raw = _workbook(header, rows)
    except (ValueError, TypeError):
        return  # openpyxl itself refuses to write some values (illegal characters)
    if damage == "truncate":
        raw = raw[: where % max(len(raw), 1)]
    elif damage == "flip":
        i = where % len(raw)
        raw = raw[:i] + bytes([raw[i] ^ 0xFF]) + raw[i + 1:]
    elif damage in ("drop-sheet", "garbage-sheet"):
        source = zipfile.ZipFile(io.BytesIO(raw))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as target:
            for item in source.infolist():
                if item.filename == "xl/worksheets/sheet1.xml":
                    if damage == "drop-sheet":
                        continue
                    target.writestr(item, b"<worksheet><sheetData><row><c t=\"s\"><v>999</v></c></row>")
                else:
                    target.writestr(item, source.read(item.filename))
        raw = out.getvalue()
    _check("gias.xlsx", raw, "import xlsx", app)


def test_zip_bomb_is_refused_before_unpacking(app):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"\x00" * (tabular.MAX_XLSX_UNPACKED_BYTES + 1))
    raw = out.getvalue()
    assert len(raw) < 1_000_000
    with pytest.raises(ValidationError, match="more than 100 MB"):
        tabular.read_table("bomb.xlsx", raw)


def test_good_workbook_still_imports(app):
    raw = _workbook(GIAS_HEADER[:3], [["990101", "Oakfield Primary Academy", "Primary"]])
    with app.app_context():
        preview = schools.preview_gias("gias.xlsx", raw)
    assert preview.ok and preview.rows[0]["data"].urn == "990101"


# --- uploads through the web -------------------------------------------------------------------


def test_oversize_upload_is_413_with_a_plain_page(app, login_as):
    browser, _ = login_as(Role.EXECUTIVE)
    big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = browser.post("/schools/import", {"file": (io.BytesIO(big), "big.csv")},
                            content_type="multipart/form-data")
    assert response.status_code == 413
    assert b"The file is too large" in response.data and b"Traceback" not in response.data


def test_a_large_allowed_file_gets_through_the_confirm_step(app, login_as):
    # The confirm step carries the file base64-encoded in a form field (sent urlencoded, as the page's form is,
    # so Werkzeug's 500 kB limit on multipart fields does not apply); a file of this size must get through.
    rows = [GIAS_HEADER[:5]] + [[f"{900000 + n}", f"School number {n} " + "x" * 60, "Primary", "", str(n % 900)]
                                 for n in range(8000)]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    raw = buffer.getvalue().encode()
    assert 600_000 < len(raw) < app.config["MAX_CONTENT_LENGTH"]
    browser, _ = login_as(Role.EXECUTIVE)
    preview = browser.post("/schools/import", {"file": (io.BytesIO(raw), "big.csv")},
                           content_type="multipart/form-data")
    assert preview.status_code == 200 and b"Import these 8000 schools" in preview.data
    content = base64.b64encode(raw).decode()
    confirm = browser.post("/schools/import/confirm", {"filename": "big.csv", "content": content},
                           token_from="/schools/import")
    assert confirm.status_code == 302


@pytest.mark.parametrize("name", ["schools.pdf", "schools.exe", "schools", "schools.csv.exe"])
def test_wrong_file_types_are_400(login_as, name):
    browser, _ = login_as(Role.CEO)
    response = browser.post("/schools/import", {"file": (io.BytesIO(b"URN,EstablishmentName\n"), name)},
                            content_type="multipart/form-data")
    assert response.status_code == 400 and b"Upload a .csv or .xlsx file" in response.data


def test_nul_in_a_form_is_400_not_500(login_as):
    browser, _ = login_as(Role.CEO)
    response = browser.post("/schools/new", {"urn": "990101", "name": "Nul\x00School", "phase": "primary"})
    assert response.status_code == 400 and b"NUL character" in response.data


def test_value_the_database_refuses_is_400(app, login_as, monkeypatch):
    from sqlalchemy.exc import DataError

    from app.services import dashboards

    browser, _ = login_as(Role.CEO)

    def refuse(user):
        raise DataError("INSERT ...", {}, Exception("value too long for type character varying(6)"))

    monkeypatch.setattr(dashboards, "home_summary", refuse)
    response = browser.get("/")
    assert response.status_code == 400 and b"Traceback" not in response.data


# --- formula payloads in exports ----------------------------------------------------------------

PAYLOADS = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "=HYPERLINK(\"http://x\")", "-2+3"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_payloads_are_neutralised(payload):
    assert tabular.neutralise(payload) == "'" + payload
    assert tabular.restore(tabular.neutralise(payload)) == payload


@pytest.mark.parametrize("safe", ["Oakfield", "1+1", "", "'quoted", "a=b", " =1"])
def test_ordinary_text_is_left_alone(safe):
    assert tabular.neutralise(safe) == safe


def test_exports_carry_no_live_formula():
    rows = [[p, 3, None] for p in PAYLOADS]
    text = tabular.write_csv(["value", "n", "empty"], rows).decode("utf-8-sig")
    for row in list(csv.reader(io.StringIO(text)))[1:]:
        assert row[0].startswith("'")
    book = load_workbook(io.BytesIO(tabular.write_xlsx(["value"], [[p] for p in PAYLOADS])))
    values = [c.value for c in book.active["A"]][1:]
    assert all(v.startswith("'") for v in values)
    assert all(c.data_type == "s" for c in book.active["A"])  # stored as text, not as a formula


@given(st.text(max_size=30))
def test_neutralise_never_leaves_a_formula_start(text):
    assert not tabular.neutralise(text).startswith(tabular._FORMULA_STARTS)


def test_damaged_zip_header_is_a_clear_error():
    # Found by the fuzzer: a flipped "version needed" byte makes zipfile raise NotImplementedError.
    raw = bytearray(_workbook(["URN"], [["990101"]]))
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 6] = 0xEB  # version needed to extract: 23.5
    with pytest.raises(ValidationError, match="not a readable .xlsx"):
        tabular.read_table("gias.xlsx", bytes(raw))
