-- RideBooking.Data schema, step 3: the per-driver earnings rollup.
-- Plain SQL for MySQL 8.0+ and MariaDB 10.6+. Safe to run again: every statement is IF NOT EXISTS.
--
-- The transaction that completes a ride adds its fare here, so "earnings per driver" and
-- "top drivers by earnings" read a small indexed table instead of summing every ride.
-- It holds one row per driver with at least one completed ride. Rebuild it from rides with the
-- batched backfill when adopting the schema on existing data.

CREATE TABLE IF NOT EXISTS driver_earnings (
  driver_id        BIGINT        NOT NULL,
  total_earnings   DECIMAL(18,2) NOT NULL,
  completed_rides  BIGINT        NOT NULL,
  updated_at       DATETIME(6)   NOT NULL,
  PRIMARY KEY (driver_id),
  -- Top-N by earnings reads this index from the top; ties are ordered by driver id.
  KEY ix_driver_earnings_total (total_earnings DESC, driver_id),
  CONSTRAINT ck_driver_earnings_total CHECK (total_earnings >= 0),
  CONSTRAINT ck_driver_earnings_rides CHECK (completed_rides >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
