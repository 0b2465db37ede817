-- RideBooking.Data schema, step 8: where each logical shard lives (the shard catalog).
-- Plain SQL for MySQL 8.0+ and MariaDB 10.6+. Safe to run again: the table is created IF NOT EXISTS.
--
-- Applied to every primary like the other scripts, but only physical shard 0's primary is read: it is the
-- catalog. A logical shard without a row lives where the configured base map puts it
-- (logical_shard % RideBooking:BasePhysicalShardCount, or % the number of shards). A move writes the row:
-- MOVING while its rows are copied to moving_to (writes to it are refused, reads still go to
-- physical_shard), then PLACED on the target with leftover_on naming the old physical shard until its copies
-- of the rows are deleted. version grows by one with every change.
CREATE TABLE IF NOT EXISTS shard_placements (
  logical_shard   SMALLINT UNSIGNED NOT NULL,
  physical_shard  SMALLINT UNSIGNED NOT NULL,
  state           ENUM('MOVING', 'PLACED') NOT NULL,
  moving_to       SMALLINT UNSIGNED NULL,
  leftover_on     SMALLINT UNSIGNED NULL,
  version         INT UNSIGNED NOT NULL,
  updated_at      DATETIME(6) NOT NULL,
  PRIMARY KEY (logical_shard),
  CONSTRAINT ck_shard_placements_logical CHECK (logical_shard < 256),
  CONSTRAINT ck_shard_placements_moving CHECK ((state = 'MOVING') = (moving_to IS NOT NULL))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
