-- RideBooking.Data accounts, step 2: the application account, which the library connects as.
-- Plain SQL for MySQL 8.0+ and MariaDB 10.6+, run by an administrator after the schema scripts (table
-- grants need their tables). Not run by RideBookingSchema.ApplyAsync. Safe to run again.
--
-- Placeholders (replace every one before running; Flyway placeholders and envsubst use this form):
--   ${rb_database}  the database that holds the schema, for example rides
--   ${rb_app_user}  the application account, for example rides_app
--   ${rb_app_host}  its host part, for example % or 10.0.0.%
--
-- No password is set here and none belongs in a repository. Create the account first, with your own
-- secret store and authentication (GRANT does not create accounts), for example:
--   CREATE USER 'rides_app'@'%' IDENTIFIED BY '<from your secret store>' REQUIRE SSL;
--
-- Only the statements the library sends on its own tables, table by table; no DDL, no access to
-- other databases. Run the same file on every primary of a sharded deployment; replicas receive the
-- accounts and grants through replication. A process that moves logical shards (IShardMover) needs
-- 03_resharding.sql as well. Every table of the schema has exactly one GRANT below: a new table
-- needs one too (a unit test checks it).
--
-- Privilege rules this file follows (both servers):
--   UPDATE ... WHERE and DELETE ... WHERE need SELECT on the columns they read;
--   INSERT ... ON DUPLICATE KEY UPDATE needs INSERT and UPDATE;
--   INSERT ... SELECT needs SELECT on the table it reads;
--   SELECT ... FOR UPDATE needs SELECT, and on MySQL 8.0.22+ also UPDATE, DELETE or LOCK TABLES.

-- users: read by id and phone; CreateAsync inserts. No statement updates or deletes a user; UPDATE is
-- granted only because MySQL 8.0.22+ refuses the SELECT ... FOR UPDATE of a creation's replay without it.
GRANT SELECT, INSERT, UPDATE ON `${rb_database}`.`users` TO '${rb_app_user}'@'${rb_app_host}';

-- drivers: read, inserted by CreateAsync, availability flipped by bookings, completions, cancellations
-- and cross-shard steps (UPDATE ... WHERE available), locked by the earnings backfill (FOR UPDATE).
GRANT SELECT, INSERT, UPDATE ON `${rb_database}`.`drivers` TO '${rb_app_user}'@'${rb_app_host}';

-- rides: inserted by BookAsync, state changed by Accept/Complete/Cancel (locked FOR UPDATE first),
-- read by id and per user; read by payments (INSERT ... SELECT) and the backfill.
GRANT SELECT, INSERT, UPDATE ON `${rb_database}`.`rides` TO '${rb_app_user}'@'${rb_app_host}';

-- payments: RecordAsync (INSERT ... SELECT ... ON DUPLICATE KEY UPDATE), SetStatusAsync (UPDATE), reads.
GRANT SELECT, INSERT, UPDATE ON `${rb_database}`.`payments` TO '${rb_app_user}'@'${rb_app_host}';

-- driver_earnings: the rollup, upserted by completions (ON DUPLICATE KEY UPDATE), read by the rankings,
-- rebuilt by IDriverEarningsBackfill (DELETE, then INSERT ... SELECT).
GRANT SELECT, INSERT, UPDATE, DELETE ON `${rb_database}`.`driver_earnings` TO '${rb_app_user}'@'${rb_app_host}';

-- driver_holds (006): a cross-shard booking inserts a hold, the release and the recovery pass delete it,
-- HoldOfDriver reads it FOR UPDATE (allowed on MySQL by DELETE).
GRANT SELECT, INSERT, DELETE ON `${rb_database}`.`driver_holds` TO '${rb_app_user}'@'${rb_app_host}';

-- cross_shard_decisions (006): commit points and recovery fences (INSERT ... ON DUPLICATE KEY UPDATE id = id).
GRANT SELECT, INSERT, UPDATE ON `${rb_database}`.`cross_shard_decisions` TO '${rb_app_user}'@'${rb_app_host}';

-- cross_shard_outbox (006): written with a cross-shard completion or cancellation, deleted once applied.
GRANT SELECT, INSERT, DELETE ON `${rb_database}`.`cross_shard_outbox` TO '${rb_app_user}'@'${rb_app_host}';

-- cross_shard_applied (006): INSERT IGNORE makes applying a message idempotent; read by the backfill.
GRANT SELECT, INSERT ON `${rb_database}`.`cross_shard_applied` TO '${rb_app_user}'@'${rb_app_host}';

-- phone_claims (007): claimed (INSERT ... ON DUPLICATE KEY UPDATE), confirmed (UPDATE), released (DELETE).
GRANT SELECT, INSERT, UPDATE, DELETE ON `${rb_database}`.`phone_claims` TO '${rb_app_user}'@'${rb_app_host}';

-- transaction_claims (007): as phone_claims, for payment transaction ids.
GRANT SELECT, INSERT, UPDATE, DELETE ON `${rb_database}`.`transaction_claims` TO '${rb_app_user}'@'${rb_app_host}';

-- idempotency_keys: a caller's key is inserted with the row it stands for, read back by a repeat, and
-- pointed at a new id when the first one collided (UPDATE); keys are never deleted by the library.
GRANT SELECT, INSERT, UPDATE ON `${rb_database}`.`idempotency_keys` TO '${rb_app_user}'@'${rb_app_host}';

-- shard_placements (008): every process reloads the catalog; only IShardMover writes it (03_resharding.sql).
GRANT SELECT ON `${rb_database}`.`shard_placements` TO '${rb_app_user}'@'${rb_app_host}';

-- schema_history (004): read by RideBookingSchema.GetAppliedScriptsAsync (a health check); only the
-- migration account writes it.
GRANT SELECT ON `${rb_database}`.`schema_history` TO '${rb_app_user}'@'${rb_app_host}';

-- Replicas: the lag watch runs SHOW REPLICA STATUS on each replica (reads on replicas start with
-- MASTER_GTID_WAIT / WAIT_FOR_EXECUTED_GTID_SET and writes read @@last_gtid / @@global.gtid_executed:
-- those need no privilege). MariaDB calls the privilege REPLICA MONITOR (also spelled SLAVE MONITOR,
-- 10.5.9+); MySQL calls it REPLICATION CLIENT, a name that on MariaDB means BINLOG MONITOR, which the
-- library does not need. The statement is chosen by the server that runs it. Leave it out when the
-- deployment has no replicas.
SET @rb_grant = CONCAT(
  IF(VERSION() LIKE '%MariaDB%', 'GRANT SLAVE MONITOR', 'GRANT REPLICATION CLIENT'),
  ' ON *.* TO ''${rb_app_user}''@''${rb_app_host}''');
PREPARE rb_grant FROM @rb_grant;
EXECUTE rb_grant;
DEALLOCATE PREPARE rb_grant;
