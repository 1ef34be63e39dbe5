-- The periodic report gets a section for the programme (creative models, trainings and
-- events, members trained, the plaques' scans), with its default indicators, so that they
-- show on the dashboards, in the report and on the public page like any other.
ALTER TABLE indicators DROP CONSTRAINT indicators_section_check;
ALTER TABLE indicators ADD CONSTRAINT indicators_section_check
    CHECK (section IN ('outreach', 'identity', 'cashless', 'feedback', 'programme'));

INSERT INTO indicators (code, name_vi, name_en, kind, numerator, denominator, position, active, created_at, section)
SELECT 'MODELS_ACTIVE',
       'Mô hình sáng tạo đang triển khai hoặc đã đánh giá',
       'Creative models running or evaluated',
       'count', 'programme:models_running + programme:models_evaluated', NULL,
       (SELECT COALESCE(MAX(position), 0) + 1 FROM indicators), TRUE, 0, 'programme'
WHERE NOT EXISTS (SELECT 1 FROM indicators WHERE code = 'MODELS_ACTIVE');

INSERT INTO indicators (code, name_vi, name_en, kind, numerator, denominator, position, active, created_at, section)
SELECT 'TRAININGS_HELD',
       'Lớp tập huấn cho tổ công nghệ số cộng đồng',
       'Trainings held for the community digital technology teams',
       'count', 'programme:trainings', NULL,
       (SELECT COALESCE(MAX(position), 0) + 1 FROM indicators), TRUE, 0, 'programme'
WHERE NOT EXISTS (SELECT 1 FROM indicators WHERE code = 'TRAININGS_HELD');

INSERT INTO indicators (code, name_vi, name_en, kind, numerator, denominator, position, active, created_at, section)
SELECT 'EVENTS_HELD',
       'Sự kiện, hoạt động tuyên truyền, hỗ trợ đã tổ chức',
       'Events, campaigns and help counters held',
       'count', 'programme:events', NULL,
       (SELECT COALESCE(MAX(position), 0) + 1 FROM indicators), TRUE, 0, 'programme'
WHERE NOT EXISTS (SELECT 1 FROM indicators WHERE code = 'EVENTS_HELD');

INSERT INTO indicators (code, name_vi, name_en, kind, numerator, denominator, position, active, created_at, section)
SELECT 'EVENTS_CITIZENS_SERVED',
       'Lượt người dân được hỗ trợ tại sự kiện, quầy hỗ trợ',
       'Citizens served at events and help counters',
       'count', 'programme:served', NULL,
       (SELECT COALESCE(MAX(position), 0) + 1 FROM indicators), TRUE, 0, 'programme'
WHERE NOT EXISTS (SELECT 1 FROM indicators WHERE code = 'EVENTS_CITIZENS_SERVED');

INSERT INTO indicators (code, name_vi, name_en, kind, numerator, denominator, position, active, created_at, section)
SELECT 'MEMBERS_TRAINED_SHARE',
       'Tỷ lệ tổ viên được tập huấn trong 12 tháng',
       'Share of team members trained in the last 12 months',
       'percent', 'programme:members_trained', 'programme:members_active',
       (SELECT COALESCE(MAX(position), 0) + 1 FROM indicators), TRUE, 0, 'programme'
WHERE NOT EXISTS (SELECT 1 FROM indicators WHERE code = 'MEMBERS_TRAINED_SHARE');

INSERT INTO indicators (code, name_vi, name_en, kind, numerator, denominator, position, active, created_at, section)
SELECT 'QR_SCANS',
       'Lượt quét mã QR tại tuyến phố số, di tích số',
       'Scans of the QR plaques of digital streets and heritage routes',
       'count', 'programme:qr_scans', NULL,
       (SELECT COALESCE(MAX(position), 0) + 1 FROM indicators), TRUE, 0, 'programme'
WHERE NOT EXISTS (SELECT 1 FROM indicators WHERE code = 'QR_SCANS');
