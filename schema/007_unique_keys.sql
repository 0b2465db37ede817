-- RideBooking.Data schema, step 7: keys that are unique across all shards.
-- Plain SQL for MySQL 8.0+ and MariaDB 10.6+. Safe to run again: every statement is IF NOT EXISTS.
--
-- users.phone and payments.transaction_id are unique only on one shard (their UNIQUE keys in 001
-- and 002). To make them unique over all shards, each key is first claimed on its home shard,
-- chosen from the key itself, so that a look-up by the key alone (sign-in by phone, a provider
-- webhook with a transaction id) reaches one shard:
--   home logical shard = CRC32(bytes) & 255, where the bytes are
--   - for a transaction id (utf8mb4_bin): its UTF-8 bytes, i.e. CRC32(transaction_id) & 255 in SQL;
--   - for a phone (utf8mb4_unicode_ci): the decimal digits of the phone as ASCII, in order, after
--     compatibility decomposition (so '+1 555', '＋１５５５' and '+1555 ' share a home); for the
--     usual phones that is CRC32(REGEXP_REPLACE(phone, '[^0-9]', '')) & 255.
-- Two keys the database considers equal always get the same home. The application computes the
-- home and writes it to logical_shard (a generated column cannot compute it for the phone), so that
-- moving a logical shard moves its claims with the same index as the other tables.
--
-- A claim whose row lives on the same physical shard is written in the row's own transaction,
-- already confirmed. Otherwise the claim is inserted first (unconfirmed), then the row together with
-- a COMMITTED decision in cross_shard_decisions (006) on the row's shard. The recovery pass fences an
-- unconfirmed claim older than its grace period by inserting ABORTED for the row's id: ABORTED
-- deletes the claim (the row can never come), COMMITTED confirms it (the row exists).

-- Home shard of the phone: one row per phone number over all shards.
CREATE TABLE IF NOT EXISTS phone_claims (
  -- The same type, character set and collation as users.phone: equal here exactly when equal there.
  phone         VARCHAR(20)       NOT NULL,
  user_id       BIGINT            NOT NULL,
  claimed_at    DATETIME(6)       NOT NULL,
  -- FALSE until the user is known to exist (written with it, or confirmed by the recovery pass).
  confirmed     BOOLEAN           NOT NULL DEFAULT FALSE,
  -- The phone's home logical shard (above), written by the application.
  logical_shard SMALLINT UNSIGNED NOT NULL,
  PRIMARY KEY (phone),
  -- Recovery reads the unconfirmed claims older than its grace period.
  KEY ix_phone_claims_unconfirmed (confirmed, claimed_at),
  KEY ix_phone_claims_logical_shard (logical_shard, phone)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Home shard of the transaction id: one row per provider transaction id over all shards, naming
-- the payment (which lives on its ride's shard) and what it was recorded for.
CREATE TABLE IF NOT EXISTS transaction_claims (
  -- Compared byte for byte, as payments.transaction_id.
  transaction_id VARCHAR(100)      CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  payment_id     BIGINT            NOT NULL,
  ride_id        BIGINT            NOT NULL,
  amount         DECIMAL(10,2)     NOT NULL,
  claimed_at     DATETIME(6)       NOT NULL,
  -- FALSE until the payment is known to exist (written with it, or confirmed by the recovery pass).
  confirmed      BOOLEAN           NOT NULL DEFAULT FALSE,
  -- The transaction id's home logical shard (above), written by the application.
  logical_shard  SMALLINT UNSIGNED NOT NULL,
  PRIMARY KEY (transaction_id),
  KEY ix_transaction_claims_unconfirmed (confirmed, claimed_at),
  KEY ix_transaction_claims_logical_shard (logical_shard, transaction_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
