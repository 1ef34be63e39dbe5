-- Groups a resident may belong to — youth-union member, social-security beneficiary, person
-- with a disability… — are data: each has a number from 1 to 62, and a resident's groups are
-- the bits of `residents.groups` (group n is bit n − 1), so that the visit ingest reads them
-- with the resident and the roll-ups count every person figure by group without scanning.
CREATE TABLE resident_groups (
    id       BIGINT PRIMARY KEY CHECK (id >= 1 AND id <= 62),
    code     TEXT    NOT NULL UNIQUE,
    name_vi  TEXT    NOT NULL,
    name_en  TEXT    NOT NULL,
    position INTEGER NOT NULL
);

INSERT INTO resident_groups (id, code, name_vi, name_en, position) VALUES
    (1, 'youth_union', 'Đoàn viên thanh niên', 'Youth-union member', 1),
    (2, 'social_security', 'Người hưởng chính sách an sinh xã hội', 'Social-security beneficiary', 2),
    (3, 'disability', 'Người khuyết tật', 'Person with a disability', 3),
    (4, 'ethnic_minority', 'Người dân tộc thiểu số', 'Ethnic-minority person', 4);

-- Youth-union members are group 1 (the column `youth_union` stays, kept in step).
ALTER TABLE residents ADD COLUMN groups BIGINT NOT NULL DEFAULT 0;
UPDATE residents SET groups = 1 WHERE youth_union;

-- The figures by sex, year of birth and group of the people already recorded, at every unit
-- and its ancestors: residents (`~residents|sex:f`) and subjects of a person service at each
-- status (`~status:3:7|born:1960`). An age band is read off the years of birth.
INSERT INTO rollups (unit_id, figure, period, shard, value)
SELECT a.id, f.figure, '', 0, SUM(f.n)
FROM (
    SELECT h.unit_id AS unit_id, '~residents|sex:' || r.sex AS figure, COUNT(*) AS n
        FROM residents r JOIN households h ON h.id = r.household_id WHERE r.sex IS NOT NULL GROUP BY h.unit_id, r.sex
    UNION ALL SELECT h.unit_id, '~residents|born:' || r.birth_year, COUNT(*)
        FROM residents r JOIN households h ON h.id = r.household_id WHERE r.birth_year IS NOT NULL GROUP BY h.unit_id, r.birth_year
    UNION ALL SELECT h.unit_id, '~residents|group:1', COUNT(*)
        FROM residents r JOIN households h ON h.id = r.household_id WHERE r.youth_union GROUP BY h.unit_id
    UNION ALL SELECT h.unit_id, '~status:' || s.service_id || ':' || s.status_id || '|sex:' || r.sex, COUNT(*)
        FROM subject_statuses s JOIN residents r ON r.id = s.resident_id JOIN households h ON h.id = s.household_id
        WHERE r.sex IS NOT NULL GROUP BY h.unit_id, s.service_id, s.status_id, r.sex
    UNION ALL SELECT h.unit_id, '~status:' || s.service_id || ':' || s.status_id || '|born:' || r.birth_year, COUNT(*)
        FROM subject_statuses s JOIN residents r ON r.id = s.resident_id JOIN households h ON h.id = s.household_id
        WHERE r.birth_year IS NOT NULL GROUP BY h.unit_id, s.service_id, s.status_id, r.birth_year
    UNION ALL SELECT h.unit_id, '~status:' || s.service_id || ':' || s.status_id || '|group:1', COUNT(*)
        FROM subject_statuses s JOIN residents r ON r.id = s.resident_id JOIN households h ON h.id = s.household_id
        WHERE r.youth_union GROUP BY h.unit_id, s.service_id, s.status_id
) f
JOIN units u ON u.id = f.unit_id
JOIN units a ON u.path >= a.path AND u.path < substr(a.path, 1, length(a.path) - 1) || '0'
GROUP BY a.id, f.figure;
