-- RideBooking.Data schema, step 4: the record of applied scripts.
-- Plain SQL for MySQL 8.0+ and MariaDB 10.6+. Safe to run again: the statement is IF NOT EXISTS.
--
-- RideBookingSchema.ApplyAsync writes one row per script it has applied (this one and the ones
-- before it included), so a host or a health check can tell which version of the schema a
-- database has (RideBookingSchema.GetAppliedScriptsAsync). A row is written once, when the
-- script is first applied, and never changed afterwards.
-- When the scripts are run by a migration tool instead (Flyway, DbUp, EF Core), that tool keeps
-- its own history and this table stays empty unless rows are inserted by hand.

CREATE TABLE IF NOT EXISTS schema_history (
  -- File name of the script, such as 001_users_and_drivers.sql.
  script      VARCHAR(100) NOT NULL,
  -- SHA-256 of the script text as applied (its UTF-8 bytes), 64 lowercase hex digits.
  checksum    CHAR(64)     NOT NULL,
  -- When the script was first applied, UTC.
  applied_at  DATETIME(6)  NOT NULL,
  PRIMARY KEY (script)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
