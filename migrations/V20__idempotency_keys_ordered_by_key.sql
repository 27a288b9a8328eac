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
-- With the caller first, time-ordered keys took no less time than random ones: the order of the
-- columns is what lets the keys' order count (docs/PERFORMANCE.md, "Idempotency keys in the order
-- they are made (nineteenth stop)").
--
-- Building the new index makes money-moving requests wait: about 2 s per million keys on the
-- 2-core reference machine (3.6 million random keys in 8 s on a scratch cluster). A deployment
-- with many keys builds it beforehand, concurrently, under the name below (docs/OPERATIONS.md,
-- "The idempotency keys' index ordered by key (V20)"); this migration then only swaps it in, in
-- milliseconds. The constraint keeps its name, which core recognises when two batches insert the
-- same key.
--
-- No statement time limit may cancel the build; the migration gives up after 5 s rather than
-- queue every request behind a transaction that holds the table for long; both settings go back
-- to the session's at the end, for any migration applied after this one in the same run. The
-- table's strongest lock is taken first: a ledger batch looks its keys up (ACCESS SHARE) in its
-- first round trip and inserts them in its second, so a migration taking the build's SHARE lock
-- and then the swap's ACCESS EXCLUSIVE could wait on a batch that waits on it.

SET LOCAL statement_timeout = 0;
SET LOCAL lock_timeout = '5s';
LOCK TABLE idempotency_keys IN ACCESS EXCLUSIVE MODE;

CREATE UNIQUE INDEX IF NOT EXISTS idempotency_keys_key_caller
    ON idempotency_keys (key, caller_id);

ALTER TABLE idempotency_keys
    DROP CONSTRAINT idempotency_keys_pkey,
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY USING INDEX idempotency_keys_key_caller;

SET LOCAL lock_timeout = DEFAULT;
SET LOCAL statement_timeout = DEFAULT;
