-- The section of the periodic report an indicator belongs to: door-to-door outreach,
-- e-identity and digital signatures, cashless payment, feedback. (The report's fifth
-- section, the teams, is counted from the teams themselves.)
ALTER TABLE indicators ADD COLUMN section TEXT NOT NULL DEFAULT 'outreach'
    CHECK (section IN ('outreach', 'identity', 'cashless', 'feedback'));

UPDATE indicators SET section = 'feedback'
    WHERE code IN ('FEEDBACK_RECEIVED', 'FEEDBACK_ANSWERED_SHARE', 'FEEDBACK_ON_TIME_SHARE');
UPDATE indicators SET section = 'identity'
    WHERE code IN ('VNEID_L2_COLLECTED', 'VNEID_L2_ACTIVATED', 'DIGITAL_SIGNATURES');
UPDATE indicators SET section = 'cashless'
    WHERE code IN ('CASHLESS_PLACES', 'HEALTH_FEES_CASHLESS', 'HEALTH_FEES_CASHLESS_SHARE', 'SCHOOL_FEES_ONLINE',
                   'SCHOOLS_ONLINE_SHARE', 'SOCIAL_SECURITY_ACCOUNT_SHARE');
