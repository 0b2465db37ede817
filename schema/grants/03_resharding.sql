-- RideBooking.Data accounts, step 3 (optional): what IShardMover needs on top of 02_application_user.sql.
-- Plain SQL for MySQL 8.0+ and MariaDB 10.6+, run by an administrator on every primary after step 2.
-- Not run by RideBookingSchema.ApplyAsync. Safe to run again.
--
-- Placeholders: as in 02_application_user.sql (${rb_database}, ${rb_app_user}, ${rb_app_host}).
--
-- Moving a logical shard copies its rows of every table to another primary (INSERT ... ON DUPLICATE
-- KEY UPDATE), compares them (SELECT), deletes the old copies (DELETE) and writes the catalog
-- (shard_placements: SELECT ... FOR UPDATE, INSERT ... ON DUPLICATE KEY UPDATE, UPDATE). Grant this to
-- the account of the process that runs moves: with ${rb_app_user} naming a separate operator account
-- (that has step 2 as well), the accounts of the serving processes keep only step 2. One physical
-- shard never moves anything and never needs this file.
--
-- A table the mover's account cannot see is invisible in information_schema and would be skipped by a
-- move: every table that has a logical_shard column must be listed here (a unit test checks it).

GRANT SELECT, INSERT, UPDATE, DELETE ON `${rb_database}`.`users` TO '${rb_app_user}'@'${rb_app_host}';
GRANT SELECT, INSERT, UPDATE, DELETE ON `${rb_database}`.`drivers` TO '${rb_app_user}'@'${rb_app_host}';
GRANT SELECT, INSERT, UPDATE, DELETE ON `${rb_database}`.`rides` TO '${rb_app_user}'@'${rb_app_host}';
GRANT SELECT, INSERT, UPDATE, DELETE ON `${rb_database}`.`payments` TO '${rb_app_user}'@'${rb_app_host}';
GRANT SELECT, INSERT, UPDATE, DELETE ON `${rb_database}`.`driver_earnings` TO '${rb_app_user}'@'${rb_app_host}';
GRANT SELECT, INSERT, UPDATE, DELETE ON `${rb_database}`.`driver_holds` TO '${rb_app_user}'@'${rb_app_host}';
GRANT SELECT, INSERT, UPDATE, DELETE ON `${rb_database}`.`cross_shard_decisions` TO '${rb_app_user}'@'${rb_app_host}';
GRANT SELECT, INSERT, UPDATE, DELETE ON `${rb_database}`.`cross_shard_outbox` TO '${rb_app_user}'@'${rb_app_host}';
GRANT SELECT, INSERT, UPDATE, DELETE ON `${rb_database}`.`cross_shard_applied` TO '${rb_app_user}'@'${rb_app_host}';
GRANT SELECT, INSERT, UPDATE, DELETE ON `${rb_database}`.`phone_claims` TO '${rb_app_user}'@'${rb_app_host}';
GRANT SELECT, INSERT, UPDATE, DELETE ON `${rb_database}`.`transaction_claims` TO '${rb_app_user}'@'${rb_app_host}';
GRANT SELECT, INSERT, UPDATE, DELETE ON `${rb_database}`.`idempotency_keys` TO '${rb_app_user}'@'${rb_app_host}';
GRANT SELECT, INSERT, UPDATE ON `${rb_database}`.`shard_placements` TO '${rb_app_user}'@'${rb_app_host}';
