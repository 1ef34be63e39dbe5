-- Feedback figures up the tree: the counts of every unit (received, answered, answered on
-- time, per month) are kept in the roll-ups too, at the unit and each ancestor, so that a
-- province's figures for a period are a few rows instead of a scan of its counts. The
-- counts so far, added once.
INSERT INTO rollups (unit_id, figure, period, shard, value)
SELECT a.id, f.figure, f.month, 0, SUM(f.n)
FROM (
    SELECT unit_id, month, 'feedback_received' AS figure, SUM(received) AS n FROM feedback_counts WHERE unit_id <> 0 GROUP BY unit_id, month
    UNION ALL SELECT unit_id, month, 'feedback_answered', SUM(answered) FROM feedback_counts WHERE unit_id <> 0 GROUP BY unit_id, month
    UNION ALL SELECT unit_id, month, 'feedback_on_time', SUM(on_time) FROM feedback_counts WHERE unit_id <> 0 GROUP BY unit_id, month
) f
JOIN units u ON u.id = f.unit_id
JOIN units a ON u.path >= a.path AND u.path < substr(a.path, 1, length(a.path) - 1) || '0'
WHERE f.n <> 0
GROUP BY a.id, f.figure, f.month;
