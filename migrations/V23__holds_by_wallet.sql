-- A wallet's history lists its holds that are not captured (authorised, voided, expired) beside
-- its posted transactions, newest first, for the payer's wallet and the payee's
-- (docs/WALLET.md, "History"). These two indexes let each side walk its holds from the newest
-- and stop at the page's end, as `deposits_wallet_idx` and `withdrawals_wallet_idx` do for
-- deposits and withdrawals. Neither column is ever updated, so a hold's status changes stay as
-- cheap as before; an authorisation writes two more index entries. `IF NOT EXISTS`: on a large
-- table, operators may build both beforehand with `CREATE INDEX CONCURRENTLY` under these names
-- (docs/OPERATIONS.md).
CREATE INDEX IF NOT EXISTS holds_payer_idx ON holds (payer_wallet_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS holds_payee_idx ON holds (payee_wallet_id, created_at DESC, id DESC);
