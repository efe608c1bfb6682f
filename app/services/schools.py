"""Schools: list, create, edit, and import from a Get Information about Schools (GIAS) extract."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from sqlalchemy import select

from app.extensions import db
from app.models import Phase, School, User
from app.services import audit, tabular
from app.services.errors import Conflict, NotFound, ValidationError

URN_RE = re.compile(r"^\d{6}$")
POSTCODE_RE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$")

# GIAS "PhaseOfEducation (name)" values; special schools say "Not applicable" and are told by their type.
GIAS_PHASES = {
    "nursery": Phase.NURSERY,
    "primary": Phase.PRIMARY,
    "middle deemed primary": Phase.PRIMARY,
    "secondary": Phase.SECONDARY,
    "middle deemed secondary": Phase.SECONDARY,
    "all-through": Phase.ALL_THROUGH,
    "16 plus": Phase.POST_16,
}
GIAS_REQUIRED = ("URN", "EstablishmentName", "PhaseOfEducation (name)")


@dataclass(frozen=True)
class SchoolData:
    urn: str
    name: str
    phase: Phase
    pupils: int | None = None
    postcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    local_authority: str | None = None


def list_schools() -> list[School]:
    return list(db.session.scalars(select(School).order_by(School.name)))


def get(school_id: int) -> School:
    school = db.session.get(School, school_id)
    if school is None:
        raise NotFound("There is no such school.")
    return school


def by_urn(urn: str) -> School | None:
    return db.session.scalar(select(School).where(School.urn == urn))


def normalise_postcode(postcode: str | None) -> str | None:
    if not postcode or not postcode.strip():
        return None
    compact = re.sub(r"\s+", "", postcode.upper())
    return f"{compact[:-3]} {compact[-3:]}"


def validate(data: SchoolData) -> SchoolData:
    if not URN_RE.match(data.urn or ""):
        raise ValidationError("The URN must be exactly 6 digits.", "urn")
    if not data.name or not data.name.strip():
        raise ValidationError("Enter the school's name.", "name")
    if len(data.name) > 200:
        raise ValidationError("The name must be at most 200 characters.", "name")
    postcode = normalise_postcode(data.postcode)
    if postcode and not POSTCODE_RE.match(postcode):
        raise ValidationError(f"'{data.postcode}' is not a UK postcode.", "postcode")
    if data.pupils is not None and not 0 <= data.pupils <= 10_000:
        raise ValidationError("Number of pupils must be between 0 and 10,000.", "pupils")
    if (data.latitude is None) != (data.longitude is None):
        raise ValidationError("Give both latitude and longitude, or neither.", "latitude")
    if data.latitude is not None and not (49.0 <= data.latitude <= 61.0 and -9.0 <= data.longitude <= 2.5):
        raise ValidationError("That location is not in the United Kingdom.", "latitude")
    return SchoolData(
        urn=data.urn,
        name=data.name.strip(),
        phase=Phase(data.phase),
        pupils=data.pupils,
        postcode=postcode,
        latitude=data.latitude,
        longitude=data.longitude,
        local_authority=(data.local_authority or "").strip() or None,
    )


def create(actor: User, data: SchoolData) -> School:
    data = validate(data)
    if by_urn(data.urn):
        raise Conflict(f"A school with URN {data.urn} is already in the trust.")
    school = School(**data.__dict__)
    db.session.add(school)
    db.session.flush()
    audit.record("school.created", target_type="school", target_id=school.id,
                 details={"urn": school.urn, "name": school.name}, actor=actor)
    db.session.commit()
    return school


def update(actor: User, school_id: int, data: SchoolData) -> School:
    school = get(school_id)
    data = validate(data)
    other = by_urn(data.urn)
    if other and other.id != school.id:
        raise Conflict(f"URN {data.urn} belongs to {other.name}.")
    changes = {}
    for field, value in data.__dict__.items():
        if getattr(school, field) != value:
            changes[field] = {"from": str(getattr(school, field)), "to": str(value)}
            setattr(school, field, value)
    if changes:
        audit.record("school.updated", target_type="school", target_id=school.id, details=changes, actor=actor)
        db.session.commit()
    return school


# --- GIAS import -------------------------------------------------------------------------------


@cache
def _osgb_to_wgs84():
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def _number(value: str, what: str, kind=float):
    try:
        return kind(value.replace(",", ""))
    except ValueError as exc:
        raise ValidationError(f"{what} '{value}' is not a number.") from exc


def _gias_row(row: dict[str, str]) -> SchoolData:
    phase_name = row.get("PhaseOfEducation (name)", "").strip().lower()
    type_name = row.get("TypeOfEstablishment (name)", "").strip().lower()
    if "special" in type_name or phase_name == "special":
        phase = Phase.SPECIAL
    elif phase_name in GIAS_PHASES:
        phase = GIAS_PHASES[phase_name]
    else:
        raise ValidationError(f"PhaseOfEducation '{row.get('PhaseOfEducation (name)', '')}' is not a phase this "
                              "app knows (Nursery, Primary, Secondary, All-through, 16 plus, or a special school).")
    pupils = row.get("NumberOfPupils", "").strip()
    lat = row.get("Latitude", "").strip()
    lon = row.get("Longitude", "").strip()
    easting = row.get("Easting", "").strip()
    northing = row.get("Northing", "").strip()
    latitude = longitude = None
    if lat and lon:
        latitude, longitude = _number(lat, "Latitude"), _number(lon, "Longitude")
    elif easting and northing:
        # GIAS gives British National Grid coordinates; the matcher measures travel in degrees.
        e, n = _number(easting, "Easting"), _number(northing, "Northing")
        longitude, latitude = _osgb_to_wgs84().transform(e, n)
        latitude, longitude = round(latitude, 5), round(longitude, 5)
    return validate(
        SchoolData(
            urn=row.get("URN", "").strip(),
            name=row.get("EstablishmentName", "").strip(),
            phase=phase,
            pupils=_number(pupils, "NumberOfPupils", int) if pupils else None,
            postcode=row.get("Postcode"),
            latitude=latitude,
            longitude=longitude,
            local_authority=row.get("LA (name)"),
        )
    )


def preview_gias(filename: str, raw: bytes) -> tabular.Preview:
    """Check every row of a GIAS extract; each bad row gets its own message."""
    rows = tabular.read_table(filename, raw)
    preview = tabular.Preview()
    if not rows:
        preview.errors.append(tabular.RowError(1, "The file has a header but no schools."))
        return preview
    missing = [c for c in GIAS_REQUIRED if c not in rows[0]]
    if missing:
        preview.errors.append(tabular.RowError(1, "Missing column(s): " + ", ".join(missing)
                                               + ". Export the file from Get Information about Schools."))
        return preview
    seen: dict[str, int] = {}
    existing = {s.urn: s for s in list_schools()}
    for number, row in enumerate(rows, start=2):
        try:
            data = _gias_row(row)
        except ValidationError as exc:
            preview.errors.append(tabular.RowError(number, str(exc)))
            continue
        if data.urn in seen:
            preview.errors.append(tabular.RowError(number, f"URN {data.urn} is also on row {seen[data.urn]}."))
            continue
        seen[data.urn] = number
        preview.rows.append({"data": data, "action": "update" if data.urn in existing else "add"})
    return preview


def import_gias(actor: User, filename: str, raw: bytes) -> tabular.Preview:
    """Add or update every school in the file, or nothing at all if any row is bad."""
    preview = preview_gias(filename, raw)
    if not preview.ok:
        return preview
    for item in preview.rows:
        data: SchoolData = item["data"]
        school = by_urn(data.urn)
        if school is None:
            db.session.add(School(**data.__dict__))
        else:
            for field, value in data.__dict__.items():
                setattr(school, field, value)
    audit.record("school.imported", target_type="school", actor=actor,
                 details={"file": filename[:100], "rows": len(preview.rows),
                          "added": sum(1 for r in preview.rows if r["action"] == "add")})
    db.session.commit()
    return preview
