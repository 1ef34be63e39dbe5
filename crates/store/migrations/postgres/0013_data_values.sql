-- Data elements: the figures of the province's report that are not counted door to door
-- (fees paid cashless, digital signatures issued, app installs…), entered per unit and
-- period. A percentage is never an element: it is an indicator over two elements.
CREATE TABLE data_elements (
    id          BIGSERIAL PRIMARY KEY,
    code        TEXT    NOT NULL UNIQUE,
    name_vi     TEXT    NOT NULL,
    name_en     TEXT    NOT NULL,
    -- `count` (a whole number of things) or `money` (whole đồng).
    value_type  TEXT    NOT NULL CHECK (value_type IN ('count', 'money')),
    -- Over time: `sum` adds the periods up; `last` takes the latest (a stock, such as
    -- schools collecting fees online). Up the tree every element sums.
    aggregation TEXT    NOT NULL CHECK (aggregation IN ('sum', 'last')),
    -- The administrative level values are entered at.
    level       TEXT    NOT NULL CHECK (level IN ('province', 'district', 'commune', 'hamlet')),
    -- The DHIS2 period type values are entered for.
    period_type TEXT    NOT NULL CHECK (period_type IN ('Daily', 'Weekly', 'Monthly', 'Quarterly', 'SixMonthly', 'Yearly')),
    position    INTEGER NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  BIGINT  NOT NULL
);

-- One value per element, unit and period (a DHIS2 period id). The roll-ups carry them up the
-- tree as figures `value:<element>` and `value_n:<element>` (how many units entered one).
CREATE TABLE data_values (
    element_id BIGINT  NOT NULL REFERENCES data_elements (id),
    unit_id    BIGINT  NOT NULL REFERENCES units (id),
    period     TEXT    NOT NULL,
    value      BIGINT  NOT NULL CHECK (value >= 0),
    comment    TEXT,
    updated_by BIGINT  REFERENCES users (id),
    updated_at BIGINT  NOT NULL,
    PRIMARY KEY (element_id, unit_id, period)
);
CREATE INDEX data_values_unit_period ON data_values (unit_id, period);

-- Who changed which value, when, from what to what (NULL: no value), and by which way in.
CREATE TABLE data_value_history (
    id         BIGSERIAL PRIMARY KEY,
    element_id BIGINT  NOT NULL REFERENCES data_elements (id),
    unit_id    BIGINT  NOT NULL REFERENCES units (id),
    period     TEXT    NOT NULL,
    before     BIGINT,
    after      BIGINT,
    comment    TEXT,
    user_id    BIGINT  REFERENCES users (id),
    source     TEXT    NOT NULL CHECK (source IN ('form', 'api', 'csv', 'demo')),
    at         BIGINT  NOT NULL
);
CREATE INDEX data_value_history_value ON data_value_history (element_id, unit_id, period);

-- The default set: the seed report's figures and the infrastructure the province promises.
INSERT INTO data_elements (id, code, name_vi, name_en, value_type, aggregation, level, period_type, position, created_at) VALUES
    (1, 'CASHLESS_SHOPPING_CENTRES', 'Trung tâm thương mại chấp nhận thanh toán không dùng tiền mặt', 'Shopping centres accepting cashless payment', 'count', 'last', 'commune', 'Monthly', 1, 0),
    (2, 'CASHLESS_SUPERMARKETS', 'Siêu thị chấp nhận thanh toán không dùng tiền mặt', 'Supermarkets accepting cashless payment', 'count', 'last', 'commune', 'Monthly', 2, 0),
    (3, 'CASHLESS_MARKETS', 'Chợ chấp nhận thanh toán không dùng tiền mặt', 'Markets accepting cashless payment', 'count', 'last', 'commune', 'Monthly', 3, 0),
    (4, 'CASHLESS_SHOPS', 'Cửa hàng, cơ sở kinh doanh chấp nhận thanh toán không dùng tiền mặt', 'Shops and businesses accepting cashless payment', 'count', 'last', 'commune', 'Monthly', 4, 0),
    (5, 'HEALTH_FEES_CASHLESS', 'Viện phí thanh toán không dùng tiền mặt', 'Health fees paid cashless', 'money', 'sum', 'commune', 'Monthly', 5, 0),
    (6, 'HEALTH_FEES_TOTAL', 'Tổng viện phí đã thu', 'Health fees collected in total', 'money', 'sum', 'commune', 'Monthly', 6, 0),
    (7, 'SCHOOL_FEES_ONLINE', 'Học phí thu trực tuyến', 'School fees collected online', 'money', 'sum', 'commune', 'Monthly', 7, 0),
    (8, 'SCHOOLS_COLLECTING_ONLINE', 'Trường học thu học phí trực tuyến', 'Schools collecting fees online', 'count', 'last', 'commune', 'Monthly', 8, 0),
    (9, 'SCHOOLS_TOTAL', 'Tổng số trường học', 'Schools in total', 'count', 'last', 'commune', 'Monthly', 9, 0),
    (10, 'SOCIAL_SECURITY_TO_ACCOUNT', 'Người hưởng an sinh xã hội nhận qua tài khoản', 'Social-security beneficiaries paid into an account', 'count', 'last', 'commune', 'Monthly', 10, 0),
    (11, 'SOCIAL_SECURITY_TOTAL', 'Tổng số người hưởng an sinh xã hội', 'Social-security beneficiaries in total', 'count', 'last', 'commune', 'Monthly', 11, 0),
    (12, 'DIGITAL_SIGNATURES', 'Chữ ký số cấp cho cá nhân', 'Digital signatures issued to individuals', 'count', 'sum', 'commune', 'Monthly', 12, 0),
    (13, 'APP_INSTALLS', 'Lượt cài đặt ứng dụng công dân của tỉnh', 'Installs of the provincial citizen app', 'count', 'sum', 'commune', 'Monthly', 13, 0),
    (14, 'YOUTH_UNION_GUIDED', 'Đoàn viên thanh niên được hướng dẫn cài đặt', 'Youth-union members guided to install', 'count', 'sum', 'commune', 'Monthly', 14, 0),
    (15, 'HAMLETS_MOBILE_BROADBAND', 'Thôn, ấp, khu phố có sóng di động băng rộng', 'Hamlets covered by mobile broadband', 'count', 'last', 'commune', 'Monthly', 15, 0),
    (16, 'HOUSEHOLDS_FIXED_BROADBAND', 'Hộ gia đình có băng rộng cố định', 'Households with fixed broadband', 'count', 'last', 'commune', 'Monthly', 16, 0),
    (17, 'SMARTPHONES_GIVEN', 'Điện thoại thông minh trao tặng qua chương trình hỗ trợ', 'Smartphones given through support programmes', 'count', 'sum', 'commune', 'Monthly', 17, 0);

-- The default set chose its ids; move the sequence past them.
SELECT setval('data_elements_id_seq', (SELECT MAX(id) FROM data_elements));
