-- Comparing a fresh million-row registry snapshot with the previous one (what registry_import counts
-- as added / removed / changed): anti-joins as the planner chooses, anti-joins hashed, and the grouping
-- the product runs. Plain tables in a scratch database; the new snapshot is not analysed, as in the
-- product (the app role may not ANALYZE):
--   createdb -h 127.0.0.1 -U postgres compare && psql -h 127.0.0.1 -U postgres -d compare -f bench/snapshot_compare.sql
\timing on
CREATE TABLE shape_entry (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, snapshot_id uuid NOT NULL, row_number int,
                          id_number_hash text, category text);
CREATE INDEX ON shape_entry (snapshot_id);
INSERT INTO shape_entry SELECT gen_random_uuid(), '11111111-1111-1111-1111-111111111111',
       '22222222-2222-2222-2222-222222222222', g, left(md5('x' || g), 32), 'DIBAO'
  FROM generate_series(1, 1000000) g;
ANALYZE shape_entry;
BEGIN;
-- A month later: 20,000 people gone, 20,000 new, 1% of categories changed; not analysed.
INSERT INTO shape_entry SELECT gen_random_uuid(), '11111111-1111-1111-1111-111111111111',
       '33333333-3333-3333-3333-333333333333', g, left(md5('x' || (g + 20000)), 32),
       CASE WHEN g % 100 = 0 THEN 'TEKUN' ELSE 'DIBAO' END
  FROM generate_series(1, 1000000) g;

\echo added, as the planner chooses by itself (cancelled after 60 s)
SET LOCAL statement_timeout = '60s';
SAVEPOINT unguided;
SELECT count(*) FROM (SELECT DISTINCT n.id_number_hash FROM shape_entry n
  WHERE n.snapshot_id = '33333333-3333-3333-3333-333333333333' AND NOT EXISTS (
    SELECT 1 FROM shape_entry o WHERE o.snapshot_id = '22222222-2222-2222-2222-222222222222'
       AND o.id_number_hash = n.id_number_hash)) added;
ROLLBACK TO SAVEPOINT unguided;
SET LOCAL statement_timeout = 0;

\echo added, removed, changed with nested loops off (hash anti-joins)
SET LOCAL enable_nestloop = off;
SELECT count(*) FROM (SELECT DISTINCT n.id_number_hash FROM shape_entry n
  WHERE n.snapshot_id = '33333333-3333-3333-3333-333333333333' AND NOT EXISTS (
    SELECT 1 FROM shape_entry o WHERE o.snapshot_id = '22222222-2222-2222-2222-222222222222'
       AND o.id_number_hash = n.id_number_hash)) added;
SELECT count(*) FROM (SELECT DISTINCT o.id_number_hash FROM shape_entry o
  WHERE o.snapshot_id = '22222222-2222-2222-2222-222222222222' AND NOT EXISTS (
    SELECT 1 FROM shape_entry n WHERE n.snapshot_id = '33333333-3333-3333-3333-333333333333'
       AND n.id_number_hash = o.id_number_hash)) removed;
SELECT count(*) FROM (SELECT DISTINCT n.id_number_hash FROM shape_entry n
  WHERE n.snapshot_id = '33333333-3333-3333-3333-333333333333'
    AND EXISTS (SELECT 1 FROM shape_entry o WHERE o.snapshot_id = '22222222-2222-2222-2222-222222222222'
                   AND o.id_number_hash = n.id_number_hash)
    AND NOT EXISTS (SELECT 1 FROM shape_entry o WHERE o.snapshot_id = '22222222-2222-2222-2222-222222222222'
                   AND o.id_number_hash = n.id_number_hash AND o.category = n.category)) changed;
SET LOCAL enable_nestloop = on;

\echo all three in one grouping, no join (what registry_import runs: audits/registry/services/imports.py _changes)
SELECT COALESCE(SUM(CASE WHEN in_new = 1 AND in_old = 0 THEN 1 ELSE 0 END), 0) AS added,
       COALESCE(SUM(CASE WHEN in_new = 0 AND in_old = 1 THEN 1 ELSE 0 END), 0) AS removed,
       COALESCE(SUM(CASE WHEN in_new = 1 AND in_old = 1 AND new_pair = 1 THEN 1 ELSE 0 END), 0) AS changed
  FROM (SELECT person, MAX(n) AS in_new, MAX(o) AS in_old, MAX(n * (1 - o)) AS new_pair
          FROM (SELECT id_number_hash AS person, category,
                       MAX(CASE WHEN snapshot_id = '33333333-3333-3333-3333-333333333333' THEN 1 ELSE 0 END) AS n,
                       MAX(CASE WHEN snapshot_id = '22222222-2222-2222-2222-222222222222' THEN 1 ELSE 0 END) AS o
                  FROM shape_entry
                 WHERE snapshot_id IN ('33333333-3333-3333-3333-333333333333', '22222222-2222-2222-2222-222222222222')
                 GROUP BY id_number_hash, category) pairs
         GROUP BY person) people;
ROLLBACK;
DROP TABLE shape_entry;
