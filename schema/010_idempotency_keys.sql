-- RideBooking.Data schema, step 10: callers' idempotency keys.
-- Plain SQL for MySQL 8.0+ and MariaDB 10.6+. Safe to run again: every statement is IF NOT EXISTS.
--
-- A caller may pass its own idempotency key to IRideBookingService.BookAsync, IUserRepository.CreateAsync
-- and IDriverRepository.CreateAsync: a repeat with the same key returns the first call's result
-- instead of writing again (the way payment providers treat an idempotency key); a repeat with the
-- same key but other arguments is refused (IdempotencyKeyConflictException). This is the same
-- design as the library's own keys (a booking's pre-generated ride id, a payment's transaction id,
-- a phone's claim): the key is stored in the same local transaction as the row it stands for, on
-- that row's shard, so the key exists exactly when the row was committed.
--   - BOOK_RIDE: scope_id is the user id; the row lives with the ride, on the user's shard. A
--     booking's key is unique per user.
--   - CREATE_USER, CREATE_DRIVER: scope_id is 0; the new user or driver gets its logical shard from
--     the key itself (CRC32 of the key's UTF-8 bytes & 255), so a repeat reaches the one shard
--     that can hold the key without knowing the id.
-- request_hash is the SHA-256 of the call's arguments (a phone is never stored here in clear).
-- Rows are never deleted by the library; a host may delete rows older than its callers' retry
-- window (ix_idempotency_keys_created_at), after which a repeat is a new call.

CREATE TABLE IF NOT EXISTS idempotency_keys (
  operation       VARCHAR(16)       CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  scope_id        BIGINT            NOT NULL,
  -- Compared byte for byte (leading and trailing white space is refused by the library).
  idempotency_key VARCHAR(100)      CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  request_hash    BINARY(32)        NOT NULL,
  -- The ride, user or driver the first call stored.
  entity_id       BIGINT            NOT NULL,
  created_at      DATETIME(6)       NOT NULL,
  -- The row moves with its entity when a logical shard moves.
  logical_shard   SMALLINT UNSIGNED AS (entity_id & 255) STORED,
  PRIMARY KEY (operation, scope_id, idempotency_key),
  KEY ix_idempotency_keys_logical_shard (logical_shard, operation, scope_id, idempotency_key),
  KEY ix_idempotency_keys_created_at (created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
