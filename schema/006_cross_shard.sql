-- RideBooking.Data schema, step 6: what cross-shard operations keep on each shard.
-- Plain SQL for MySQL 8.0+ and MariaDB 10.6+. Safe to run again: every statement is IF NOT EXISTS.
--
-- A booking whose user and driver live on different physical shards is not one local transaction.
-- It holds the driver on the driver's shard (driver_holds), then inserts the ride on the user's shard
-- together with its decision (cross_shard_decisions): that insert is the commit point. Completing or
-- cancelling such a ride writes the ride's new state and a message (cross_shard_outbox) in one local
-- transaction on the user's shard; the message is applied once on the driver's shard (release the
-- driver, add the fare: cross_shard_applied makes it idempotent) and then deleted. A recovery pass
-- finishes or undoes whatever a process left behind when it died between two steps.
-- Every table has a logical_shard column (see 005) so that moving a logical shard moves its rows.

-- Driver's shard: the driver is held for this ride (one hold per driver at most).
CREATE TABLE IF NOT EXISTS driver_holds (
  driver_id  BIGINT      NOT NULL,
  ride_id    BIGINT      NOT NULL,
  held_at    DATETIME(6) NOT NULL,
  logical_shard SMALLINT UNSIGNED AS (driver_id & 255) STORED,
  PRIMARY KEY (driver_id),
  UNIQUE KEY uq_driver_holds_ride (ride_id),
  -- Recovery reads the holds older than its grace period.
  KEY ix_driver_holds_held_at (held_at),
  KEY ix_driver_holds_logical_shard (logical_shard, driver_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- User's shard: the outcome of a cross-shard booking, keyed by its pre-generated ride id. The booking
-- inserts COMMITTED with its ride; recovery inserts ABORTED for a hold whose ride never came. The primary
-- key decides which of the two happened, even when both try at once.
CREATE TABLE IF NOT EXISTS cross_shard_decisions (
  id          BIGINT      NOT NULL,
  outcome     ENUM('COMMITTED', 'ABORTED') NOT NULL,
  decided_at  DATETIME(6) NOT NULL,
  logical_shard SMALLINT UNSIGNED AS (id & 255) STORED,
  PRIMARY KEY (id),
  KEY ix_cross_shard_decisions_logical_shard (logical_shard, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- User's shard: a completed or cancelled ride whose driver is on another shard, until the driver's
-- shard has applied it (release the driver; for a completion, add the fare to the earnings).
CREATE TABLE IF NOT EXISTS cross_shard_outbox (
  ride_id     BIGINT        NOT NULL,
  kind        ENUM('COMPLETED', 'CANCELLED') NOT NULL,
  driver_id   BIGINT        NOT NULL,
  fare        DECIMAL(10,2) NOT NULL,
  created_at  DATETIME(6)   NOT NULL,
  logical_shard SMALLINT UNSIGNED AS (ride_id & 255) STORED,
  PRIMARY KEY (ride_id),
  KEY ix_cross_shard_outbox_created (created_at),
  KEY ix_cross_shard_outbox_logical_shard (logical_shard, ride_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Driver's shard: outbox messages already applied, so that a replay never adds a fare twice.
CREATE TABLE IF NOT EXISTS cross_shard_applied (
  ride_id     BIGINT      NOT NULL,
  driver_id   BIGINT      NOT NULL,
  kind        ENUM('COMPLETED', 'CANCELLED') NOT NULL,
  applied_at  DATETIME(6) NOT NULL,
  logical_shard SMALLINT UNSIGNED AS (driver_id & 255) STORED,
  PRIMARY KEY (ride_id),
  KEY ix_cross_shard_applied_logical_shard (logical_shard, driver_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
