-- Transfers that name their receiver by email or phone are throttled per caller.
--
-- Such a transfer answers whether the address belongs to a user: a miss is a 404, a hit goes on to
-- the posting. Whoever holds an account could therefore test a list of addresses one transfer at
-- a time. Core now counts each caller's lookups that find nobody in `login_throttle`, under a
-- scope of their own (the key is the caller's user id), and past a limit within a window refuses
-- every lookup of that caller, found or not, until a lock ends (docs/WALLET.md, "Receivers named
-- by email or phone"). Only the check on the scope's name changes: no row is rewritten, and the
-- previous build, which never writes this scope, works on the new schema.

ALTER TABLE login_throttle DROP CONSTRAINT login_throttle_scope_known;
ALTER TABLE login_throttle ADD CONSTRAINT login_throttle_scope_known
    CHECK (scope IN ('account', 'address', 'contact_lookup'));
