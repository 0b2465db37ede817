-- RideBooking.Data schema, step 9: a ride can be paid again after a failed attempt.
-- Plain SQL for MySQL 8.0+ and MariaDB 10.6+. Safe to run again: each change is made only when it
-- is missing (information_schema checks, then PREPARE / EXECUTE, as in 005).
--
-- 002 allowed one payment row per ride (uq_payments_ride). A payment that FAILED therefore kept
-- its ride from ever being paid. From this step on a ride has any number of FAILED attempts and
-- at most one payment that is PENDING or SUCCEEDED, which the database enforces:
--   active_ride_id is the ride id while the payment is PENDING or SUCCEEDED and NULL once it
--   FAILED; its UNIQUE index refuses a second live payment for the same ride (NULLs do not
--   collide), so two callers racing with different transaction ids cannot both be recorded.
-- ix_payments_ride (ride_id, id) replaces uq_payments_ride for the foreign key and for reading the
-- attempts of a ride in order. The generated column is declared without NOT NULL, as in 005.
-- One ALTER TABLE rebuilds the table once: on a large payments table run it at a quiet time.

SET @missing_column = (SELECT COUNT(*) = 0 FROM information_schema.columns
  WHERE table_schema = DATABASE() AND table_name = 'payments' AND column_name = 'active_ride_id');
SET @missing_unique = (SELECT COUNT(*) = 0 FROM information_schema.statistics
  WHERE table_schema = DATABASE() AND table_name = 'payments' AND index_name = 'uq_payments_active_ride');
SET @missing_ride_index = (SELECT COUNT(*) = 0 FROM information_schema.statistics
  WHERE table_schema = DATABASE() AND table_name = 'payments' AND index_name = 'ix_payments_ride');
SET @has_one_per_ride = (SELECT COUNT(*) > 0 FROM information_schema.statistics
  WHERE table_schema = DATABASE() AND table_name = 'payments' AND index_name = 'uq_payments_ride');
SET @ddl = IF(@missing_column OR @missing_unique OR @missing_ride_index OR @has_one_per_ride,
  CONCAT('ALTER TABLE payments ', CONCAT_WS(', ',
    IF(@missing_column, 'ADD COLUMN active_ride_id BIGINT AS (CASE WHEN status IN (''PENDING'', ''SUCCEEDED'') THEN ride_id END) STORED', NULL),
    IF(@missing_unique, 'ADD UNIQUE INDEX uq_payments_active_ride (active_ride_id)', NULL),
    IF(@missing_ride_index, 'ADD INDEX ix_payments_ride (ride_id, id)', NULL),
    IF(@has_one_per_ride, 'DROP INDEX uq_payments_ride', NULL))),
  'DO 0');
PREPARE payment_attempts FROM @ddl;
EXECUTE payment_attempts;
DEALLOCATE PREPARE payment_attempts;
