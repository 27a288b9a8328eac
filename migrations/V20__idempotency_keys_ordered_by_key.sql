-- Idempotency keys are indexed key first, so that keys made in time order are written together.
--
-- The primary key was (caller_id, key): every ledger batch wrote each of its keys into a random
-- leaf of the index, one leaf per key, whatever the keys looked like, because the caller came
-- first. It is now (key, caller_id): the same pairs are unique, and every lookup gives both
-- columns. The keys that core (`new_idempotency_key`) and the client make for a call are now
-- UUIDv7, which begin with the time they were made, so a batch's keys go to the same few leaves,
-- next to one another. Keys a caller makes in no particular order (UUIDv4, say) land at random
-- places, as before.
--
-- On a scratch cluster holding 5 million keys, inserting 256 keys of random callers after a
-- checkpoint took 3.4-4.0 ms and wrote 392-395 bytes of WAL per key with the key first and
-- time-ordered keys, against 6.5-7.6 ms and 1,449-2,225 bytes with the caller first and random
-- keys: each random key dirties a leaf of its own, which the WAL then holds whole after each
-- checkpoint. With 1% of the keys random among the ordered ones, 3.6-4.4 ms and 433-436 bytes.
-- With the caller first, time-ordered keys gained nothing: the order of the columns is what lets
-- the keys' order count (docs/PERFORMANCE.md, "Idempotency keys in the order they are made
-- (nineteenth stop)").
--
-- Building the new index holds the table's SHARE lock, so money-moving requests wait for it:
-- about 2 s per million keys on the 2-core reference machine (3.6 million in 8 s). A deployment
-- with many keys builds it beforehand, concurrently, under the name below (docs/OPERATIONS.md,
-- "The idempotency keys' index ordered by key (V20)"); this migration then only swaps it in, in
-- milliseconds. No statement time limit may cancel the build, and the migration gives up rather
-- than queue every request behind a transaction that holds the table for long. The constraint
-- keeps its name, which core recognises when two batches insert the same key.

SET LOCAL statement_timeout = 0;
SET LOCAL lock_timeout = '5s';

CREATE UNIQUE INDEX IF NOT EXISTS idempotency_keys_key_caller
    ON idempotency_keys (key, caller_id);

ALTER TABLE idempotency_keys
    DROP CONSTRAINT idempotency_keys_pkey,
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY USING INDEX idempotency_keys_key_caller;
