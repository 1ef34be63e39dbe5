-- The places of a digital street or a heritage route (a shop, a market stall, a relic site),
-- in the route's order, each with a public page at a short code (`/p/{code}`) and a QR
-- plaque that leads to it. A scan is counted a day a place, nothing about who scanned.
CREATE TABLE route_places (
    id             INTEGER PRIMARY KEY,
    model_id       BIGINT  NOT NULL REFERENCES models (id),
    ordinal        INTEGER NOT NULL,
    code           TEXT    NOT NULL UNIQUE,
    kind           TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    address        TEXT    NOT NULL DEFAULT '',
    description    TEXT    NOT NULL DEFAULT '',
    history        TEXT    NOT NULL DEFAULT '',
    opening_hours  TEXT    NOT NULL DEFAULT '',
    cashless       BOOLEAN NOT NULL DEFAULT FALSE,
    cashless_how   TEXT    NOT NULL DEFAULT '',
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);
CREATE INDEX route_places_model ON route_places (model_id, ordinal);

CREATE TABLE route_place_photos (
    id        INTEGER PRIMARY KEY,
    place_id  BIGINT  NOT NULL REFERENCES route_places (id),
    caption   TEXT    NOT NULL DEFAULT '',
    mime      TEXT    NOT NULL,
    width     INTEGER NOT NULL,
    height    INTEGER NOT NULL,
    bytes     BLOB    NOT NULL,
    added_at  BIGINT  NOT NULL
);
CREATE INDEX route_place_photos_place ON route_place_photos (place_id);

CREATE TABLE route_place_scans (
    place_id  BIGINT  NOT NULL REFERENCES route_places (id),
    day       TEXT    NOT NULL,
    scans     BIGINT  NOT NULL,
    PRIMARY KEY (place_id, day)
);
