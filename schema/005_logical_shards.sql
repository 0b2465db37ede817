-- RideBooking.Data schema, step 5: the logical shard of every row.
-- Plain SQL for MySQL 8.0+ and MariaDB 10.6+. Safe to run again: each column and index is added
-- only when it is missing.
--
-- Ids are 64-bit and carry their logical shard in their low byte: logical_shard = id & 255,
-- 256 logical shards. Logical shards are mapped to servers, and moving one to another server
-- selects its rows by the index added here, in primary key order:
--   SELECT ... FROM rides WHERE logical_shard = ? AND id > ? ORDER BY id LIMIT ?
--
-- logical_shard is a STORED generated column: the server computes it from the id on every write,
-- so it can never disagree with the id. The id it is computed from is NOT NULL, so it is never
-- NULL; the column itself is declared without NOT NULL because MariaDB does not accept NOT NULL
-- on a generated column (MySQL does, after STORED), and this file has to run on both.
--
-- The MariaDB forms ADD COLUMN IF NOT EXISTS and ADD INDEX IF NOT EXISTS do not exist on MySQL,
-- so each step reads information_schema and runs the ALTER TABLE it needs through
-- PREPARE / EXECUTE (DO 0 when the table is already up to date). No stored procedures, no
-- triggers.
-- Adding a stored column rebuilds the table (a table copy on MySQL): on large tables run this
-- file at a quiet time. Column and index are added by one ALTER TABLE, so one rebuild per table.

-- users: a user is placed on the logical shard carried by its id.
SET @missing_column = (SELECT COUNT(*) = 0 FROM information_schema.columns
  WHERE table_schema = DATABASE() AND table_name = 'users' AND column_name = 'logical_shard');
SET @missing_index = (SELECT COUNT(*) = 0 FROM information_schema.statistics
  WHERE table_schema = DATABASE() AND table_name = 'users' AND index_name = 'ix_users_logical_shard');
SET @ddl = IF(@missing_column OR @missing_index,
  CONCAT('ALTER TABLE users ', CONCAT_WS(', ',
    IF(@missing_column, 'ADD COLUMN logical_shard SMALLINT UNSIGNED AS (id & 255) STORED', NULL),
    IF(@missing_index, 'ADD INDEX ix_users_logical_shard (logical_shard, id)', NULL))),
  'DO 0');
PREPARE add_logical_shard FROM @ddl;
EXECUTE add_logical_shard;
DEALLOCATE PREPARE add_logical_shard;

-- drivers: a driver is placed on the logical shard carried by its id.
SET @missing_column = (SELECT COUNT(*) = 0 FROM information_schema.columns
  WHERE table_schema = DATABASE() AND table_name = 'drivers' AND column_name = 'logical_shard');
SET @missing_index = (SELECT COUNT(*) = 0 FROM information_schema.statistics
  WHERE table_schema = DATABASE() AND table_name = 'drivers' AND index_name = 'ix_drivers_logical_shard');
SET @ddl = IF(@missing_column OR @missing_index,
  CONCAT('ALTER TABLE drivers ', CONCAT_WS(', ',
    IF(@missing_column, 'ADD COLUMN logical_shard SMALLINT UNSIGNED AS (id & 255) STORED', NULL),
    IF(@missing_index, 'ADD INDEX ix_drivers_logical_shard (logical_shard, id)', NULL))),
  'DO 0');
PREPARE add_logical_shard FROM @ddl;
EXECUTE add_logical_shard;
DEALLOCATE PREPARE add_logical_shard;

-- rides: a ride id carries the logical shard of the user who booked it.
SET @missing_column = (SELECT COUNT(*) = 0 FROM information_schema.columns
  WHERE table_schema = DATABASE() AND table_name = 'rides' AND column_name = 'logical_shard');
SET @missing_index = (SELECT COUNT(*) = 0 FROM information_schema.statistics
  WHERE table_schema = DATABASE() AND table_name = 'rides' AND index_name = 'ix_rides_logical_shard');
SET @ddl = IF(@missing_column OR @missing_index,
  CONCAT('ALTER TABLE rides ', CONCAT_WS(', ',
    IF(@missing_column, 'ADD COLUMN logical_shard SMALLINT UNSIGNED AS (id & 255) STORED', NULL),
    IF(@missing_index, 'ADD INDEX ix_rides_logical_shard (logical_shard, id)', NULL))),
  'DO 0');
PREPARE add_logical_shard FROM @ddl;
EXECUTE add_logical_shard;
DEALLOCATE PREPARE add_logical_shard;

-- payments: a payment id carries the logical shard of its ride (the user who booked it).
SET @missing_column = (SELECT COUNT(*) = 0 FROM information_schema.columns
  WHERE table_schema = DATABASE() AND table_name = 'payments' AND column_name = 'logical_shard');
SET @missing_index = (SELECT COUNT(*) = 0 FROM information_schema.statistics
  WHERE table_schema = DATABASE() AND table_name = 'payments' AND index_name = 'ix_payments_logical_shard');
SET @ddl = IF(@missing_column OR @missing_index,
  CONCAT('ALTER TABLE payments ', CONCAT_WS(', ',
    IF(@missing_column, 'ADD COLUMN logical_shard SMALLINT UNSIGNED AS (id & 255) STORED', NULL),
    IF(@missing_index, 'ADD INDEX ix_payments_logical_shard (logical_shard, id)', NULL))),
  'DO 0');
PREPARE add_logical_shard FROM @ddl;
EXECUTE add_logical_shard;
DEALLOCATE PREPARE add_logical_shard;

-- driver_earnings: a rollup row belongs to the logical shard of its driver.
SET @missing_column = (SELECT COUNT(*) = 0 FROM information_schema.columns
  WHERE table_schema = DATABASE() AND table_name = 'driver_earnings' AND column_name = 'logical_shard');
SET @missing_index = (SELECT COUNT(*) = 0 FROM information_schema.statistics
  WHERE table_schema = DATABASE() AND table_name = 'driver_earnings' AND index_name = 'ix_driver_earnings_logical_shard');
SET @ddl = IF(@missing_column OR @missing_index,
  CONCAT('ALTER TABLE driver_earnings ', CONCAT_WS(', ',
    IF(@missing_column, 'ADD COLUMN logical_shard SMALLINT UNSIGNED AS (driver_id & 255) STORED', NULL),
    IF(@missing_index, 'ADD INDEX ix_driver_earnings_logical_shard (logical_shard, driver_id)', NULL))),
  'DO 0');
PREPARE add_logical_shard FROM @ddl;
EXECUTE add_logical_shard;
DEALLOCATE PREPARE add_logical_shard;

SET @missing_column = NULL, @missing_index = NULL, @ddl = NULL;
