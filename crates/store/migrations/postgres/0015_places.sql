-- Places: shopping centres, supermarkets, markets, shops, health facilities and schools,
-- each in its unit, with the day it began to accept cashless payment and, for a school or
-- health facility, to collect fees online. "1 shopping centre, 7 supermarkets, 41 markets"
-- is counted from here for any unit and day.
CREATE TABLE places (
    id                BIGSERIAL PRIMARY KEY,
    unit_id           BIGINT  NOT NULL REFERENCES units (id),
    kind              TEXT    NOT NULL CHECK (kind IN ('shopping_centre', 'supermarket', 'market', 'shop', 'health_facility', 'school')),
    code              TEXT    NOT NULL UNIQUE,
    name              TEXT    NOT NULL,
    cashless_since    DATE,
    online_fees_since DATE,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL
);
CREATE INDEX places_unit ON places (unit_id, kind);

-- Cashless places are counted from the registry now: the indicator reads it as of the
-- period's last day (the data elements stay, for provinces that keep no registry).
UPDATE indicators SET numerator = 'places:shopping_centre + places:supermarket + places:market' WHERE code = 'CASHLESS_PLACES';
