"""Schools: create, edit, and the all-or-nothing GIAS import."""

import io
from pathlib import Path

from app.extensions import db
from app.models import Phase, Role, School
from tests import factories

DATA = Path(__file__).resolve().parent.parent / "data"


def _count(app):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(School))


def test_create_school(app, login_as):
    browser, _ = login_as(Role.EXECUTIVE)
    response = browser.post("/schools/new", {"urn": "123456", "name": "Riverside Primary", "phase": "primary",
                                             "pupils": "210", "postcode": "la1 1aa"})
    assert response.status_code == 302
    with app.app_context():
        school = db.session.scalar(db.select(School).where(School.urn == "123456"))
        assert school.postcode == "LA1 1AA" and school.phase is Phase.PRIMARY


def test_bad_urn_is_explained_and_nothing_saved(app, login_as):
    browser, _ = login_as(Role.EXECUTIVE)
    before = _count(app)
    response = browser.post("/schools/new", {"urn": "12345", "name": "Riverside Primary", "phase": "primary"})
    assert response.status_code == 200
    assert b"The URN must be exactly 6 digits" in response.data
    assert b"There is a problem" in response.data
    assert _count(app) == before


def test_duplicate_urn_is_refused(app, login_as):
    browser, _ = login_as(Role.EXECUTIVE)
    with app.app_context():
        factories.school(urn="222222")
    response = browser.post("/schools/new", {"urn": "222222", "name": "Another", "phase": "primary"})
    assert b"already in the trust" in response.data


def test_edit_school(app, login_as):
    browser, _ = login_as(Role.CEO)
    with app.app_context():
        school_id = factories.school(name="Old Name").id
    response = browser.post(f"/schools/{school_id}/edit", {"urn": "654321", "name": "New Name",
                                                           "phase": "secondary"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(School, school_id).name == "New Name"


def _upload(browser, path: Path, name: str | None = None):
    return browser.post("/schools/import", {"file": (io.BytesIO(path.read_bytes()), name or path.name)},
                        content_type="multipart/form-data")


def test_gias_import_preview_then_confirm(app, login_as):
    browser, _ = login_as(Role.EXECUTIVE)
    response = _upload(browser, DATA / "gias-sample.csv")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Eskdale Green Primary Academy" in html and "Import these 5 schools" in html
    assert _count(app) == 0  # the preview saves nothing
    content = html.split('id="content" name="content" type="hidden" value="')[1].split('"')[0]
    response = browser.post("/schools/import/confirm", {"filename": "gias-sample.csv", "content": content},
                            token_from="/schools/import")
    assert response.status_code == 302
    with app.app_context():
        special = db.session.scalar(db.select(School).where(School.urn == "990203"))
        assert special.phase is Phase.SPECIAL
        assert special.local_authority == "Cumberland"
        # Easting/Northing converted from the British National Grid: Aspatria is near 54.76N, 3.33W.
        assert abs(special.latitude - 54.76) < 0.05 and abs(special.longitude + 3.33) < 0.05
        nursery = db.session.scalar(db.select(School).where(School.urn == "990204"))
        assert nursery.phase is Phase.NURSERY and nursery.pupils == 64


def test_gias_import_reports_every_bad_row_and_saves_nothing(app, login_as):
    browser, _ = login_as(Role.EXECUTIVE)
    before = _count(app)
    response = _upload(browser, DATA / "gias-bad.csv")
    html = response.get_data(as_text=True)
    assert "Row 3: The URN must be exactly 6 digits" in html
    assert "Row 4: Enter the school" in html
    assert "Row 5: PhaseOfEducation" in html
    assert "Row 6: NumberOfPupils" in html
    assert "Row 7: URN 990301 is also on row 2" in html
    assert "Import these" not in html
    assert _count(app) == before


def test_tampered_confirm_is_rechecked(app, login_as):
    import base64

    browser, _ = login_as(Role.EXECUTIVE)
    before = _count(app)
    content = base64.b64encode((DATA / "gias-bad.csv").read_bytes()).decode()
    response = browser.post("/schools/import/confirm", {"filename": "x.csv", "content": content},
                            token_from="/schools/import")
    assert response.status_code == 400
    assert _count(app) == before


def test_import_refuses_other_file_types(login_as):
    browser, _ = login_as(Role.EXECUTIVE)
    response = browser.post("/schools/import", {"file": (io.BytesIO(b"%PDF-1.4"), "schools.pdf")},
                            content_type="multipart/form-data")
    assert response.status_code == 400
    assert b"Upload a .csv or .xlsx file" in response.data
    unreadable = browser.post("/schools/import", {"file": (io.BytesIO(b"PK\x03\x04 not a zip"), "schools.xlsx")},
                              content_type="multipart/form-data")
    assert unreadable.status_code == 400
    assert b"not a readable .xlsx workbook" in unreadable.data
    missing = browser.post("/schools/import", {}, content_type="multipart/form-data")
    assert missing.status_code == 400 and b"Choose a file to upload" in missing.data


def test_import_with_missing_columns(login_as):
    browser, _ = login_as(Role.EXECUTIVE)
    response = browser.post("/schools/import", {"file": (io.BytesIO(b"Name,Town\nA,B\n"), "schools.csv")},
                            content_type="multipart/form-data")
    assert b"Missing column(s): URN, EstablishmentName" in response.data
