-- Indicators: a numerator over a denominator, each a sum of terms read from the roll-ups —
-- data values (`value:CODE`), door-to-door figures (`figure:households_visited`), subjects
-- at or past a service's status (`reached:SERVICE:STATUS`) and feedback counts
-- (`feedback:answered`). A share is always Σ numerators ÷ Σ denominators of the subtree,
-- never an average of the children's shares.
CREATE TABLE indicators (
    id          BIGSERIAL PRIMARY KEY,
    code        TEXT    NOT NULL UNIQUE,
    name_vi     TEXT    NOT NULL,
    name_en     TEXT    NOT NULL,
    -- `count`, `money` (whole đồng) or `percent` (numerator ÷ denominator).
    kind        TEXT    NOT NULL CHECK (kind IN ('count', 'money', 'percent')),
    numerator   TEXT    NOT NULL,
    denominator TEXT,
    position    INTEGER NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  BIGINT  NOT NULL,
    CHECK ((kind = 'percent') = (denominator IS NOT NULL))
);

-- A unit's target for an indicator and period, in the indicator's unit (a percent in
-- hundredths: 8000 is 80 %).
CREATE TABLE targets (
    indicator_id BIGINT NOT NULL REFERENCES indicators (id),
    unit_id      BIGINT NOT NULL REFERENCES units (id),
    period       TEXT   NOT NULL,
    target       BIGINT NOT NULL CHECK (target >= 0),
    set_by       BIGINT REFERENCES users (id),
    set_at       BIGINT NOT NULL,
    PRIMARY KEY (indicator_id, unit_id, period)
);

-- The headline figures of the seed report.
INSERT INTO indicators (id, code, name_vi, name_en, kind, numerator, denominator, position, created_at) VALUES
    (1, 'HOUSEHOLDS_GUIDED_APP', 'Hộ được hướng dẫn cài ứng dụng công dân của tỉnh', 'Households guided to install the provincial app', 'count', 'reached:citizen_app:installed', NULL, 1, 0),
    (2, 'HOUSEHOLDS_VISITED_SHARE', 'Tỷ lệ hộ đã được đến nhà', 'Share of households visited', 'percent', 'figure:households_visited', 'figure:households', 2, 0),
    (3, 'YOUTH_UNION_GUIDED', 'Đoàn viên thanh niên được hướng dẫn cài ứng dụng', 'Youth-union members guided to install the app', 'count', 'value:YOUTH_UNION_GUIDED', NULL, 3, 0),
    (4, 'APP_INSTALLS', 'Lượt cài đặt ứng dụng công dân của tỉnh', 'Installs of the provincial app', 'count', 'value:APP_INSTALLS', NULL, 4, 0),
    (5, 'FEEDBACK_RECEIVED', 'Phản ánh, kiến nghị đã tiếp nhận', 'Feedback received', 'count', 'feedback:received', NULL, 5, 0),
    (6, 'FEEDBACK_ANSWERED_SHARE', 'Tỷ lệ phản ánh đã trả lời', 'Share of feedback answered', 'percent', 'feedback:answered', 'feedback:received', 6, 0),
    (7, 'FEEDBACK_ON_TIME_SHARE', 'Tỷ lệ trả lời đúng hạn', 'Share answered on time', 'percent', 'feedback:on_time', 'feedback:answered', 7, 0),
    (8, 'VNEID_L2_COLLECTED', 'Hồ sơ định danh điện tử mức 2 đã thu nhận', 'Level-2 e-identity accounts collected', 'count', 'reached:vneid_l2:collected', NULL, 8, 0),
    (9, 'VNEID_L2_ACTIVATED', 'Tài khoản định danh điện tử mức 2 đã kích hoạt', 'Level-2 e-identity accounts activated', 'count', 'reached:vneid_l2:activated', NULL, 9, 0),
    (10, 'CASHLESS_PLACES', 'Trung tâm thương mại, siêu thị, chợ thanh toán không dùng tiền mặt', 'Shopping centres, supermarkets and markets paying cashless', 'count', 'value:CASHLESS_SHOPPING_CENTRES + value:CASHLESS_SUPERMARKETS + value:CASHLESS_MARKETS', NULL, 10, 0),
    (11, 'HEALTH_FEES_CASHLESS', 'Viện phí thanh toán không dùng tiền mặt', 'Health fees paid cashless', 'money', 'value:HEALTH_FEES_CASHLESS', NULL, 11, 0),
    (12, 'HEALTH_FEES_CASHLESS_SHARE', 'Tỷ lệ viện phí thanh toán không dùng tiền mặt', 'Share of health fees paid cashless', 'percent', 'value:HEALTH_FEES_CASHLESS', 'value:HEALTH_FEES_TOTAL', 12, 0),
    (13, 'SCHOOL_FEES_ONLINE', 'Học phí thu trực tuyến', 'School fees collected online', 'money', 'value:SCHOOL_FEES_ONLINE', NULL, 13, 0),
    (14, 'SCHOOLS_ONLINE_SHARE', 'Tỷ lệ trường thu học phí trực tuyến', 'Share of schools collecting fees online', 'percent', 'value:SCHOOLS_COLLECTING_ONLINE', 'value:SCHOOLS_TOTAL', 14, 0),
    (15, 'SOCIAL_SECURITY_ACCOUNT_SHARE', 'Tỷ lệ người hưởng an sinh xã hội nhận qua tài khoản', 'Share of social-security beneficiaries paid into an account', 'percent', 'value:SOCIAL_SECURITY_TO_ACCOUNT', 'value:SOCIAL_SECURITY_TOTAL', 15, 0),
    (16, 'DIGITAL_SIGNATURES', 'Chữ ký số cấp cho cá nhân', 'Digital signatures issued to individuals', 'count', 'value:DIGITAL_SIGNATURES', NULL, 16, 0);

-- The default set chose its ids; move the sequence past them.
SELECT setval('indicators_id_seq', (SELECT MAX(id) FROM indicators));
