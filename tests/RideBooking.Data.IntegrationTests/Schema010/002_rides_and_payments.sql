-- RideBooking.Data schema, step 2: rides and payments.
-- Plain SQL for MySQL 8.0+ and MariaDB 10.6+. Safe to run again: every statement is IF NOT EXISTS.

CREATE TABLE IF NOT EXISTS rides (
  id          BIGINT        NOT NULL,
  user_id     BIGINT        NOT NULL,
  driver_id   BIGINT        NOT NULL,
  status      ENUM('REQUESTED', 'ACCEPTED', 'COMPLETED', 'CANCELLED') NOT NULL,
  fare        DECIMAL(10,2) NOT NULL,
  created_at  DATETIME(6)   NOT NULL,
  updated_at  DATETIME(6)   NOT NULL,
  -- The user id while the ride is active, NULL otherwise. The UNIQUE index below makes the
  -- database itself refuse a second active ride for the same user (NULLs do not collide).
  active_user_id   BIGINT AS (CASE WHEN status IN ('REQUESTED', 'ACCEPTED') THEN user_id END) STORED,
  -- The same guarantee for drivers: a driver never has two active rides.
  active_driver_id BIGINT AS (CASE WHEN status IN ('REQUESTED', 'ACCEPTED') THEN driver_id END) STORED,
  PRIMARY KEY (id),
  UNIQUE KEY uq_rides_active_user (active_user_id),
  UNIQUE KEY uq_rides_active_driver (active_driver_id),
  -- "Latest rides of a user", newest first with ties broken by id: read in index order, no filesort.
  KEY ix_rides_user_created (user_id, created_at DESC, id DESC),
  -- Rides of a driver (earnings backfill, support look-ups).
  KEY ix_rides_driver_status (driver_id, status),
  CONSTRAINT ck_rides_fare CHECK (fare >= 0),
  -- Users and rides live on the same shard (both are sharded by user id), so this key holds
  -- when sharded too. Drivers are sharded by driver id, so rides.driver_id has no foreign key.
  CONSTRAINT fk_rides_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS payments (
  id              BIGINT        NOT NULL,
  ride_id         BIGINT        NOT NULL,
  -- Compared byte for byte: 'abc' and 'ABC' are different transactions.
  transaction_id  VARCHAR(100)  CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  amount          DECIMAL(10,2) NOT NULL,
  status          ENUM('PENDING', 'SUCCEEDED', 'FAILED') NOT NULL,
  created_at      DATETIME(6)   NOT NULL,
  updated_at      DATETIME(6)   NOT NULL,
  PRIMARY KEY (id),
  -- The idempotency key: INSERT ... ON DUPLICATE KEY UPDATE relies on it.
  -- The seed schema also created idx_payment_txn (transaction_id); that index is redundant with
  -- this UNIQUE key (which is already a B-tree index on the same column), so it is not created.
  UNIQUE KEY uq_payments_transaction (transaction_id),
  -- A ride is paid at most once.
  UNIQUE KEY uq_payments_ride (ride_id),
  CONSTRAINT ck_payments_amount CHECK (amount >= 0),
  CONSTRAINT fk_payments_ride FOREIGN KEY (ride_id) REFERENCES rides (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
