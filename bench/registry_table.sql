-- How the registry-entry table's shape costs a million-row INSERT … SELECT (docs/benchmarks.md,
-- "Reconciliation"). Plain tables in a scratch database, no row-level security; psql times each step:
--   createdb -h 127.0.0.1 -U postgres shapes && psql -h 127.0.0.1 -U postgres -d shapes -f bench/registry_table.sql
\timing on
CREATE TEMP TABLE src AS
SELECT g AS row_number, 'name' || g AS name, 'k1$' || md5(g::text) || md5(g::text) AS id_number,
       left(md5('x' || g), 32) AS id_number_hash,
       CASE WHEN g % 50 = 0 THEN 'k1$' || md5(g::text) END AS household_id_number,
       CASE WHEN g % 50 = 0 THEN left(md5('h' || g), 32) END AS household_id_number_hash,
       'DIBAO'::text AS category, ''::text AS township, ''::text AS village
  FROM generate_series(1, 1000000) g;
CREATE TABLE shape_snapshot (tenant_id uuid, id uuid, PRIMARY KEY (tenant_id, id));
INSERT INTO shape_snapshot VALUES ('11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222');

\echo first design: random UUID key, two composite blind-index indexes, per-row foreign key (insert, then commit)
CREATE TABLE shape_first (
  id uuid PRIMARY KEY, tenant_id uuid NOT NULL, snapshot_id uuid NOT NULL, row_number int, name text,
  id_number text, id_number_hash text, household_id_number text, household_id_number_hash text,
  category text, township text, village text,
  FOREIGN KEY (tenant_id, snapshot_id) REFERENCES shape_snapshot DEFERRABLE INITIALLY DEFERRED);
CREATE INDEX ON shape_first (tenant_id, snapshot_id, id_number_hash);
CREATE INDEX ON shape_first (tenant_id, snapshot_id, household_id_number_hash);
BEGIN;
INSERT INTO shape_first SELECT gen_random_uuid(), '11111111-1111-1111-1111-111111111111',
       '22222222-2222-2222-2222-222222222222', * FROM src;
COMMIT;

\echo the same without the foreign key
CREATE TABLE shape_no_fk (LIKE shape_first INCLUDING INDEXES);
BEGIN;
INSERT INTO shape_no_fk SELECT gen_random_uuid(), '11111111-1111-1111-1111-111111111111',
       '22222222-2222-2222-2222-222222222222', * FROM src;
COMMIT;

\echo now: rising UUID key, one index on the snapshot, no foreign key
CREATE TABLE shape_now (
  id uuid PRIMARY KEY, tenant_id uuid NOT NULL, snapshot_id uuid NOT NULL, row_number int, name text,
  id_number text, id_number_hash text, household_id_number text, household_id_number_hash text,
  category text, township text, village text);
CREATE INDEX ON shape_now (snapshot_id);
BEGIN;
INSERT INTO shape_now SELECT ('0b6e4a2c-1f3d-4e5a-9b7c-' || lpad(to_hex(row_number), 12, '0'))::uuid,
       '11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222', * FROM src;
COMMIT;

\echo random UUID key, one index on the snapshot
CREATE TABLE shape_random_key (LIKE shape_now INCLUDING INDEXES);
BEGIN;
INSERT INTO shape_random_key SELECT gen_random_uuid(), '11111111-1111-1111-1111-111111111111',
       '22222222-2222-2222-2222-222222222222', * FROM src;
COMMIT;

DROP TABLE shape_first, shape_no_fk, shape_now, shape_random_key, shape_snapshot;
