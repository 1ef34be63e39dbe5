-- Two headline figures read off the roll-ups counted by trait (0018), as the report asks:
-- the share of social-security beneficiaries with a cashless payment account among those
-- recorded door to door, and the elderly (60 and over) with an activated level-2 e-identity.
INSERT INTO indicators (code, name_vi, name_en, kind, numerator, denominator, position, active, created_at, section)
SELECT 'SOCIAL_SECURITY_WITH_ACCOUNT_SHARE',
       'Tỷ lệ người hưởng an sinh xã hội đã có tài khoản thanh toán (trong số đã ghi nhận tại hộ)',
       'Share of social-security beneficiaries with a payment account (of those recorded door to door)',
       'percent', 'reached:cashless:opened@group:social_security', 'figure:residents@group:social_security',
       (SELECT COALESCE(MAX(position), 0) + 1 FROM indicators), TRUE, 0, 'cashless'
WHERE NOT EXISTS (SELECT 1 FROM indicators WHERE code = 'SOCIAL_SECURITY_WITH_ACCOUNT_SHARE');

INSERT INTO indicators (code, name_vi, name_en, kind, numerator, denominator, position, active, created_at, section)
SELECT 'ELDERLY_VNEID_ACTIVATED',
       'Người từ 60 tuổi trở lên đã kích hoạt định danh điện tử mức 2',
       'People aged 60 and over with an activated level-2 e-identity',
       'count', 'reached:vneid_l2:activated@age:60+', NULL,
       (SELECT COALESCE(MAX(position), 0) + 1 FROM indicators), TRUE, 0, 'identity'
WHERE NOT EXISTS (SELECT 1 FROM indicators WHERE code = 'ELDERLY_VNEID_ACTIVATED');
